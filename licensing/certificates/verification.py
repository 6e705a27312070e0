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

A dataset clearance's certificate (`kind` "dataset_clearance") is checked the same way
against its clearance: the clearance must be purchased and the statement must be what
its rows say now (`licensing.services.clearance_certificates.clearance_statement`:
manifest, counts, amount and every item with its license or status). Each license it
names that is no longer active (revoked, expired) is a problem of its own status: the
items it covered are not covered any more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Prefetch
from django.utils.dateparse import parse_datetime

from licensing.certificates.signing import CertificateCheck, certificate_verify
from licensing.models import Clearance, License, Work
from licensing.selectors.licenses import WORKS_LISTED, license_effective_status, license_statement
from licensing.services.clearance_certificates import STATEMENT_KIND, clearance_statement

STATEMENT_MISMATCH = "statement_mismatch"
UNKNOWN_LICENSE = "unknown"
UNKNOWN_CLEARANCE = "unknown_clearance"
NOT_PURCHASED = "not_purchased"
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
    clearance_id: str | None = None
    clearance_status: str | None = None
    inactive_licenses: list[str] = field(default_factory=list)  # named by a clearance

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
    if check.statement.get("kind") == STATEMENT_KIND:
        return _clearance_verify(check, problems, at=at)
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


def _clearance_verify(
    check: CertificateCheck, problems: list[str], *, at: datetime | None
) -> CertificateVerification:
    """A clearance's certificate against its clearance and the licenses it names."""
    statement = check.statement or {}
    clearance_id = statement.get("clearance")
    cleared = (
        Clearance.objects.select_related("organization").filter(public_id=clearance_id).first()
        if isinstance(clearance_id, str)
        else None
    )
    if cleared is None:
        return CertificateVerification(
            check=check,
            clearance_id=clearance_id if isinstance(clearance_id, str) else None,
            clearance_status="unknown",
            problems=[*problems, UNKNOWN_CLEARANCE],
        )
    if cleared.status != Clearance.Status.PURCHASED:
        # Never certified: whatever signed this, no purchase stands behind it.
        return CertificateVerification(
            check=check,
            clearance_id=cleared.public_id,
            clearance_status=cleared.status,
            problems=[*problems, NOT_PURCHASED],
        )
    mismatched = statement_differences(statement, clearance_statement(cleared))
    if mismatched:
        problems.append(STATEMENT_MISMATCH)
    inactive = _inactive_licenses(cleared, at=at)
    for status in sorted(set(inactive.values())):
        problems.append(status)
    return CertificateVerification(
        check=check,
        clearance_id=cleared.public_id,
        clearance_status=cleared.status,
        problems=problems,
        mismatched_fields=mismatched,
        inactive_licenses=sorted(inactive),
    )


def _inactive_licenses(clearance: Clearance, *, at: datetime | None) -> dict[str, str]:
    """The licenses the clearance names that are not active now, with their status."""
    named = (
        License.objects.filter(
            pk__in=clearance.items.filter(license__isnull=False).values("license_id")
        )
        .order_by()
        .only("public_id", "status", "ends_at")
    )
    statuses = {granted.public_id: license_effective_status(granted, at=at) for granted in named}
    return {
        public_id: status
        for public_id, status in statuses.items()
        if status != License.Status.ACTIVE
    }
