"""Reads of licenses: what a certificate states, the status now, an organisation's licenses."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from licensing.errors import LicensingError, LicensingErrorCode
from licensing.models import License, LicenseeOrganization, Work

# Where a license carries its works in the API's order (newest work first), once read.
WORKS_LISTED = "works_listed"
CERTIFICATE_ISSUER = "accord"


def _rfc3339(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def license_statement(granted: License, works: Sequence[Work]) -> dict[str, Any]:
    """What a license's certificate says: who may do what with which works, until when."""
    version = granted.offer_version
    offer = version.offer
    return {
        "iss": CERTIFICATE_ISSUER,
        "license": granted.public_id,
        "licensee": {
            "id": granted.organization.public_id,
            "name": granted.organization.name,
        },
        "use": offer.use,
        "works": [
            {"id": work.public_id, "title": work.title, "sha256": work.sha256}
            for work in sorted(works, key=lambda work: work.pk)
        ],
        "terms": {
            "offer": offer.public_id,
            "version": version.version,
            "pricing": version.pricing,
            "currency": version.currency,
            "amount": version.amount,
            "unit_amount_decimal": (
                str(version.unit_amount_decimal)
                if version.unit_amount_decimal is not None
                else None
            ),
            "unit": version.unit,
            "minimum_amount": version.minimum_amount,
            "term_days": version.term_days,
            "attribution_required": version.attribution_required,
            "commercial": version.commercial,
        },
        "amount": granted.amount,
        "currency": granted.currency,
        "starts_at": _rfc3339(granted.starts_at),
        "ends_at": _rfc3339(granted.ends_at),
        "issued_at": _rfc3339(timezone.now()),
    }


def license_effective_status(granted: License, *, at: datetime | None = None) -> str:
    """The status as of now: an active license past its end is expired, job or not."""
    at = at or timezone.now()
    if granted.status == License.Status.ACTIVE and granted.ends_at and granted.ends_at <= at:
        return License.Status.EXPIRED
    return granted.status


def organization_licenses(*, organization: LicenseeOrganization) -> QuerySet[License]:
    return (
        License.objects.filter(organization=organization)
        .select_related(
            "organization", "offer_version__offer__work", "offer_version__offer__collection"
        )
        .prefetch_related(Prefetch("works", Work.objects.order_by("-id"), to_attr=WORKS_LISTED))
    )


def license_works(granted: License) -> list[Work]:
    """A license's works in the API's order: as prefetched or granted, else read now."""
    listed = getattr(granted, WORKS_LISTED, None)
    if listed is None:
        listed = list(granted.works.order_by("-id"))
        setattr(granted, WORKS_LISTED, listed)
    return listed


def organization_license_get(*, organization: LicenseeOrganization, public_id: str) -> License:
    """One of the organisation's licenses; another organisation's is simply not found."""
    found = organization_licenses(organization=organization).filter(public_id=public_id).first()
    if found is None:
        raise LicensingError(LicensingErrorCode.LICENSE_NOT_FOUND, f"No license {public_id}.")
    return found
