"""Writes to licenses after purchase: expiry (a beat job) and revocation (staff)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from licensing.errors import LicensingError, LicensingErrorCode
from licensing.models import License

EXPIRE_BATCH_SIZE_MAX = 500


def licenses_expire(*, now: datetime | None = None) -> int:
    """Mark every active license past its end as expired, in bounded batches; return how many."""
    now = now or timezone.now()
    expired_total = 0
    due = License.objects.filter(status=License.Status.ACTIVE, ends_at__lte=now)
    while batch := list(due.values_list("pk", flat=True)[:EXPIRE_BATCH_SIZE_MAX]):
        # The status condition makes a revocation that wins the race stay a revocation.
        expired_total += License.objects.filter(pk__in=batch, status=License.Status.ACTIVE).update(
            status=License.Status.EXPIRED
        )
    return expired_total


def license_revoke(*, granted: License, revoked_by: Any, reason: str) -> License:
    """Revoke a license (staff only); its certificate's verification then says so."""
    if not reason.strip():
        raise LicensingError(
            LicensingErrorCode.PARAMETER_INVALID, "Say why the license is revoked.", param="reason"
        )
    with transaction.atomic():
        locked = License.objects.select_for_update().get(pk=granted.pk)
        if locked.status == License.Status.REVOKED:
            return locked
        locked.status = License.Status.REVOKED
        locked.revoked_at = timezone.now()
        locked.revoked_by = revoked_by
        locked.revoked_reason = reason.strip()[:500]
        locked.save(update_fields=["status", "revoked_at", "revoked_by", "revoked_reason"])
    return locked
