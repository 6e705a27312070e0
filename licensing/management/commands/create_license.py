"""`manage.py create_license --org SLUG --offer OFFER_ID [--works ID ...] --starts-at DAY`."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from licensing.errors import LicensingError
from licensing.services.license_agreements import license_agreed_record


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--starts-at {value!r} is not a date (YYYY-MM-DD).") from None


class Command(BaseCommand):
    help = (
        "Record a license agreed before the organisation came to Accord: the same checks, "
        "charge or invoice line and posting as a purchase, its term starting on --starts-at "
        "(at most 24 months back). Prints the license id."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="The organisation's slug.")
        parser.add_argument("--offer", required=True, help="The offer's id (off_...).")
        parser.add_argument(
            "--works", nargs="+", default=None, help="For per-work offers on a collection."
        )
        parser.add_argument("--starts-at", required=True, help="YYYY-MM-DD, the term's first day.")

    def handle(self, *args: Any, **options: Any) -> None:
        starts_on = _day(options["starts_at"])
        try:
            granted = license_agreed_record(
                organization_slug=options["org"],
                offer_id=options["offer"],
                work_ids=options["works"],
                starts_on=starts_on,
            )
        except LicensingError as error:
            raise CommandError(error.message) from None
        self.stdout.write(granted.public_id)
