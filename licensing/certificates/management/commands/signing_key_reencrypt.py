"""Seal every certificate signing key under the primary ACCORD_SIGNING_KEY_ENCRYPTION_KEYS key."""

from django.core.management.base import BaseCommand, CommandError

from licensing.certificates.keys import SigningKeyUnreadable, signing_keys_reencrypt


class Command(BaseCommand):
    help = (
        "Re-encrypt every certificate signing key under the first key of "
        "ACCORD_SIGNING_KEY_ENCRYPTION_KEYS (after a rotation, or once after upgrading "
        "from keys sealed under SECRET_KEY). The signing keys themselves do not change."
    )

    def handle(self, *args: object, **options: object) -> None:
        try:
            count = signing_keys_reencrypt()
        except SigningKeyUnreadable as error:
            raise CommandError(f"{error}; nothing was changed") from None
        self.stdout.write(f"{count} signing keys sealed under the primary encryption key")
