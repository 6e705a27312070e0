"""`manage.py create_api_key (--creator USER | --org SLUG [--member USER] | --finance USER)`.

Prints the new key, and only the key, on stdout: it is shown this once and stored
only as a hash, so scripts can capture it with `$(…)`.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from licensing.errors import LicensingError
from licensing.models import ApiKey, Creator, LicenseeOrganization
from licensing.services.api_keys import api_key_create


class Command(BaseCommand):
    help = "Mint an API key for a creator, a licensee organisation or a finance user."

    def add_arguments(self, parser: CommandParser) -> None:
        owner = parser.add_mutually_exclusive_group(required=True)
        owner.add_argument("--creator", metavar="USERNAME")
        owner.add_argument("--org", metavar="SLUG")
        owner.add_argument("--finance", metavar="USERNAME")
        parser.add_argument("--name", default="", help="A label to recognise the key by.")
        parser.add_argument(
            "--member",
            metavar="USERNAME",
            help="With --org: issue the key to this member; it stops working if they leave.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            raw_key = self._create(options)
        except LicensingError as error:
            raise CommandError(error.message) from None
        self.stdout.write(raw_key)

    def _create(self, options: dict[str, Any]) -> str:
        if options["org"] is not None:
            organization = LicenseeOrganization.objects.filter(slug=options["org"]).first()
            if organization is None:
                raise CommandError(f"no organisation {options['org']!r}")
            member = None
            if options["member"]:
                member = get_user_model().objects.filter(username=options["member"]).first()
                if member is None:
                    raise CommandError(f"no user {options['member']!r}")
            _, raw_key = api_key_create(
                kind=ApiKey.Kind.ORGANIZATION,
                organization=organization,
                user=member,
                name=options["name"],
            )
            return raw_key
        if options["creator"] is not None:
            creator = Creator.objects.filter(user__username=options["creator"]).first()
            if creator is None:
                raise CommandError(f"no creator with username {options['creator']!r}")
            _, raw_key = api_key_create(
                kind=ApiKey.Kind.CREATOR, creator=creator, name=options["name"]
            )
            return raw_key
        user = get_user_model().objects.filter(username=options["finance"]).first()
        if user is None:
            raise CommandError(f"no user {options['finance']!r}")
        _, raw_key = api_key_create(kind=ApiKey.Kind.FINANCE, user=user, name=options["name"])
        return raw_key
