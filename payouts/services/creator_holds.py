"""Holding a creator back from payouts (they still accrue), and releasing them."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from licensing.models import Creator
from payouts.errors import PayoutError, PayoutErrorCode
from payouts.models import CreatorHold

REASON_LENGTH_MAX = 500


def creator_hold(*, creator: Creator, reason: str, user: Any) -> CreatorHold:
    """Keep the creator out of batches made from now on."""
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason or len(reason) > REASON_LENGTH_MAX:
        raise PayoutError(
            PayoutErrorCode.PARAMETER_INVALID,
            f"Give a reason of 1 to {REASON_LENGTH_MAX} characters.",
            param="reason",
        )
    try:
        with transaction.atomic():
            return CreatorHold.objects.create(creator=creator, reason=reason, held_by=user)
    except IntegrityError:
        raise PayoutError(
            PayoutErrorCode.CREATOR_ALREADY_HELD, "The creator is already on hold."
        ) from None


def creator_release(*, creator: Creator) -> None:
    """Let the creator be paid by the next batch again."""
    deleted, _ = CreatorHold.objects.filter(creator=creator).delete()
    if not deleted:
        raise PayoutError(PayoutErrorCode.CREATOR_NOT_HELD, "The creator is not on hold.")
