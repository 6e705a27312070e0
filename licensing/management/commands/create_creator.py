"""`manage.py create_creator USERNAME [--email E] [--password P] [--currency eur]`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from licensing.errors import LicensingError
from licensing.services.creators import creator_create


class Command(BaseCommand):
    help = (
        "Create a creator: a portal login (staff, scoped to their own catalogue), "
        "their profile and their ledger accounts. Prints the creator's id."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password", default=None, help="Without one, the login cannot sign in yet."
        )
        parser.add_argument("--currency", default="eur", help="Payout currency (ISO 4217).")
        parser.add_argument("--display-name", default=None)
        parser.add_argument("--country", default="", help="ISO 3166-1 alpha-2, e.g. FR.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            creator = creator_create(
                username=options["username"],
                email=options["email"],
                password=options["password"],
                display_name=options["display_name"],
                payout_currency=options["currency"],
                country=options["country"],
            )
        except LicensingError as error:
            raise CommandError(error.message) from None
        self.stdout.write(creator.public_id)
