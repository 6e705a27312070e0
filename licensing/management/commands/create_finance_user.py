"""`manage.py create_finance_user USERNAME [--password P]`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from licensing.errors import LicensingError
from licensing.services.creators import finance_user_create


class Command(BaseCommand):
    help = "Create a finance staff login (portal access; finance API keys). Prints the username."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--password", default=None)
        parser.add_argument("--email", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = finance_user_create(
                username=options["username"], password=options["password"], email=options["email"]
            )
        except LicensingError as error:
            raise CommandError(error.message) from None
        self.stdout.write(user.username)
