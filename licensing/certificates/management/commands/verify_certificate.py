import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from licensing.certificates.keys import public_jwks
from licensing.certificates.signing import certificate_verify


class Command(BaseCommand):
    help = "Verify a license certificate file: signature, key and term. Exits 1 when invalid."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="A file holding the compact JWS.")
        parser.add_argument(
            "--jwks",
            type=Path,
            help="Verify against this saved JWKS file instead of this server's keys (offline).",
        )

    def handle(self, *args: object, **options: object) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        jwks = json.loads(options["jwks"].read_text()) if options["jwks"] else public_jwks()
        check = certificate_verify(path.read_text(), jwks=jwks)
        statement = check.statement or {}
        self.stdout.write(f"signature: {'valid' if check.signature_valid else 'INVALID'}")
        self.stdout.write(f"key: {check.kid or '-'}")
        for name in ("license", "licensee", "use", "starts_at", "ends_at"):
            if name in statement:
                self.stdout.write(f"{name}: {json.dumps(statement[name])}")
        if not check.valid:
            raise CommandError("certificate not valid: " + ", ".join(check.problems))
        self.stdout.write("certificate valid")
