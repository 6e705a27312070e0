import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from licensing.certificates.keys import public_jwks
from licensing.certificates.verification import certificate_verify_with_records


class Command(BaseCommand):
    help = (
        "Verify a license or dataset-clearance certificate file: signature, key, term, the "
        "license's (or clearance's) status, and that the signed statement is what the rows "
        "say (naming any field that differs); a clearance's licenses must still be active. "
        "Exits 1 when invalid."
    )

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
        found = certificate_verify_with_records(path.read_text(), jwks=jwks)
        check = found.check
        statement = check.statement or {}
        self.stdout.write(f"signature: {'valid' if check.signature_valid else 'INVALID'}")
        self.stdout.write(f"key: {check.kid or '-'}")
        shown = ("license", "clearance", "licensee", "use", "manifest_sha256", "counts")
        for name in (*shown, "amount", "currency", "starts_at", "ends_at"):
            if name in statement:
                self.stdout.write(f"{name}: {json.dumps(statement[name])}")
        if found.license_status:
            self.stdout.write(f"license status: {found.license_status}")
        if found.clearance_status:
            self.stdout.write(f"clearance status: {found.clearance_status}")
        for license_id in found.inactive_licenses:
            self.stdout.write(f"license no longer active: {license_id}")
        record = "clearance" if found.clearance_id else "license"
        for name in found.mismatched_fields:
            self.stdout.write(f"differs from the {record}: {name}")
        if not found.valid:
            reasons = list(found.problems)
            if found.mismatched_fields:
                reasons.append("fields " + " ".join(found.mismatched_fields))
            raise CommandError("certificate not valid: " + ", ".join(reasons))
        self.stdout.write("certificate valid")
