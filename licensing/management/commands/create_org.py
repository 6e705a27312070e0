from django.core.management.base import BaseCommand, CommandError, CommandParser

from licensing.errors import LicensingError
from licensing.models import LicenseeOrganization
from licensing.services.organizations import organization_create, organization_member_add


class Command(BaseCommand):
    help = (
        "Create a licensee organisation. A card organisation gets a Stripe customer with "
        "the payment method attached; an invoice organisation is billed monthly."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--name", help="Display name (default: the slug).")
        parser.add_argument(
            "--billing", choices=LicenseeOrganization.Billing.values, default="invoice"
        )
        parser.add_argument("--payment-method", help="For card billing, e.g. pm_card_visa.")
        parser.add_argument("--currency", default="eur")
        parser.add_argument("--email")
        parser.add_argument(
            "--member", action="append", default=[], help="A username who manages it (repeatable)."
        )

    def handle(self, *args: object, **options: object) -> None:
        try:
            organization = organization_create(
                slug=options["slug"],
                name=options["name"],
                billing=options["billing"],
                currency=options["currency"],
                payment_method=options["payment_method"],
                email=options["email"],
            )
            for username in options["member"]:
                organization_member_add(organization=organization, username=username)
        except LicensingError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"{organization.public_id} {organization.slug} ({organization.billing}, "
            f"{organization.currency})"
        )
