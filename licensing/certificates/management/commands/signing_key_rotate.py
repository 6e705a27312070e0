from django.core.management.base import BaseCommand

from licensing.certificates.keys import signing_key_rotate


class Command(BaseCommand):
    help = "Make a new certificate signing key; the old one stays published for verification."

    def handle(self, *args: object, **options: object) -> None:
        key = signing_key_rotate()
        self.stdout.write(f"new signing key {key.kid}")
