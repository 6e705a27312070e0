"""Recording a license agreed before Accord (a contract signed on paper).

The `create_license` command and the demo use it; it is a purchase whose term
started in the past, so it goes through `license_purchase` with a request key made
of its arguments.
"""

from __future__ import annotations

import calendar
import hashlib
import json
from datetime import UTC, date, datetime, time

from django.utils import timezone

from licensing.errors import LicensingError, LicensingErrorCode
from licensing.models import License, LicenseeOrganization
from licensing.services.purchases import license_purchase

BOOTSTRAP_MONTHS_BACK_MAX = 24


def license_agreed_record(
    *,
    organization_slug: str,
    offer_id: str,
    work_ids: list[str] | None,
    starts_on: date,
    today: date | None = None,
) -> License:
    """Record a license agreed before Accord (a contract signed on paper).

    The same checks, charge or invoice line and posting as a purchase; only the term
    starts on `starts_on` (midnight UTC), at most 24 months back and never in the
    future. Its request key is made of its arguments, so running the same command
    twice records one license.
    """
    organization = LicenseeOrganization.objects.filter(slug=organization_slug).first()
    if organization is None:
        raise LicensingError(
            LicensingErrorCode.ORGANIZATION_NOT_FOUND, f"No organisation {organization_slug}."
        )
    today = today or timezone.now().date()
    earliest = months_before(today, BOOTSTRAP_MONTHS_BACK_MAX)
    if not earliest <= starts_on <= today:
        raise LicensingError(
            LicensingErrorCode.PARAMETER_INVALID,
            f"The term starts between {earliest} and {today} (at most"
            f" {BOOTSTRAP_MONTHS_BACK_MAX} months back, never in the future).",
            param="starts_at",
        )
    asked = json.dumps([offer_id, sorted(work_ids or []), starts_on.isoformat()])
    return license_purchase(
        organization=organization,
        offer_id=offer_id,
        work_ids=work_ids,
        request_key=f"bootstrap:{hashlib.sha256(asked.encode()).hexdigest()}",
        at=datetime.combine(starts_on, time.min, tzinfo=UTC),
    )


def months_before(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last_day))
