"""The online check of a certificate: signature, term, the license's status, and its row.

A valid signature proves that Accord's key signed the statement, not that the statement
is the license: whoever held the key (or, before the signing key had its own encryption
key, `SECRET_KEY` and a database read) could restate a real license id for another
organisation, another work, another amount or a hundred years. So the statement is
compared with what the license row says today, field by field, and every field that
differs is named. A certificate is valid only when its signature holds, its term covers
now, the license is active and the statement matches the row.

What is compared is what the statement is recomputed to from the row
(`licensing.selectors.licenses.license_statement`), except what may change without changing the
license: `issued_at`, the organisation's and the works' display names and the works'
identifiers. The organisation is compared by id, the works by their ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Prefetch
from django.utils.dateparse import parse_datetime

from licensing.certificates.signing import CertificateCheck, certificate_verify
from licensing.models import License, Work
from licensing.selectors.licenses import WORKS_LISTED, license_effective_status, license_statement

STATEMENT_MISMATCH = "statement_mismatch"
UNKNOWN_LICENSE = "unknown"
# Stamped at signing, not part of the license.
NOT_COMPARED = frozenset({"issued_at"})
DATETIME_FIELDS = frozenset({"starts_at", "ends_at"})


@dataclass(frozen=True)
class CertificateVerification:
    """Everything the online check found, for the API and the command to render."""

    check: CertificateCheck
    license_id: str | None = None
    license_status: str | None = None
    problems: list[str] = field(default_factory=list)
    mismatched_fields: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.check.signature_valid and not self.problems


def _license_for_check(public_id: str) -> License | None:
    return (
        License.objects.select_related("organization", "offer_version__offer")
        .prefetch_related(Prefetch("works", Work.objects.order_by("pk"), to_attr=WORKS_LISTED))
        .filter(public_id=public_id)
        .first()
    )


def _same_moment(stated: Any, recorded: Any) -> bool:
    if stated is None or recorded is None:
        return stated is recorded
    stated_at = parse_datetime(stated) if isinstance(stated, str) else None
    recorded_at = parse_datetime(recorded)
    return isinstance(stated_at, datetime) and stated_at == recorded_at


def _works_ids(works: Any) -> list[str] | None:
    if not isinstance(works, list) or not all(isinstance(work, dict) for work in works):
        return None
    return sorted(str(work.get("id")) for work in works)


def statement_differences(stated: dict[str, Any], recorded: dict[str, Any]) -> list[str]:
    """Name every field where the signed statement is not what the license row says."""
    differences = []
    for name in sorted((stated.keys() | recorded.keys()) - NOT_COMPARED):
        said, expected = stated.get(name), recorded.get(name)
        if name == "licensee":
            said_id = said.get("id") if isinstance(said, dict) else None
            if said_id != expected["id"]:
                differences.append("licensee")
        elif name == "works":
            if _works_ids(said) != _works_ids(expected):
                differences.append("works")
        elif name in DATETIME_FIELDS:
            if not _same_moment(said, expected):
                differences.append(name)
        elif isinstance(expected, dict):
            said_terms = said if isinstance(said, dict) else {}
            differences.extend(
                f"{name}.{key}"
                for key in sorted(said_terms.keys() | expected.keys())
                if said_terms.get(key) != expected.get(key)
            )
        elif said != expected:
            differences.append(name)
    return differences


def certificate_verify_with_records(
    token: str, *, jwks: dict[str, Any], at: datetime | None = None
) -> CertificateVerification:
    """Check a certificate offline, then against the license it names."""
    check = certificate_verify(token, jwks=jwks, at=at)
    problems = list(check.problems)
    if not check.signature_valid or check.statement is None:
        return CertificateVerification(check=check, problems=problems)
    license_id = check.statement.get("license")
    granted = _license_for_check(license_id) if isinstance(license_id, str) else None
    if granted is None:
        return CertificateVerification(
            check=check,
            license_id=license_id if isinstance(license_id, str) else None,
            license_status=UNKNOWN_LICENSE,
            problems=[*problems, UNKNOWN_LICENSE],
        )
    status = license_effective_status(granted, at=at)
    if status != License.Status.ACTIVE and status not in problems:
        problems.append(status)
    recorded = license_statement(granted, getattr(granted, WORKS_LISTED))
    mismatched = statement_differences(check.statement, recorded)
    if mismatched:
        problems.append(STATEMENT_MISMATCH)
    return CertificateVerification(
        check=check,
        license_id=granted.public_id,
        license_status=status,
        problems=problems,
        mismatched_fields=mismatched,
    )
