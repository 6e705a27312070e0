"""Bugs planted on purpose, to show the simulation finds them (tests/simulation/test_plants.py).

Each plant patches the real code the way a plausible mistake would change it. The same
function runs in the test process (through pytest's monkeypatch) and in the
simulation's Celery worker (`worker_app.py` reads ACCORD_SIM_PLANT), since the worker
is where payouts are sent and runs are rated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PLANT_ENV = "ACCORD_SIM_PLANT"


def payout_key_from_attempt(patch: Any) -> None:
    """(a) The transfer's idempotency key names the attempt, not only the item."""
    from payouts.models import PayoutItem

    def key(item: Any) -> str:
        return f"accord-payout-item:{item.public_id}:attempt-{item.attempts}"

    patch.setattr(PayoutItem, "transfer_idempotency_key", property(key))


def usage_dedup_dropped(patch: Any) -> None:
    """(b) Usage ingest forgets the licensee's event ids: a re-sent event counts again."""
    import itertools

    from licensing.services import usage_ingest

    staged_rows = usage_ingest._staged_rows
    fresh = itertools.count()

    def staged_without_dedup(events: list, postgresql: bool) -> list[tuple]:
        rows = staged_rows(events, postgresql)
        # Column 1 is the licensee's event id: make every occurrence a new one.
        return [(row[0], f"{row[1]}~{next(fresh)}", *row[2:]) for row in rows]

    patch.setattr(usage_ingest, "_staged_rows", staged_without_dedup)


def rounding_loses_a_micro(patch: Any) -> None:
    """(c) Sharing a pool's period part by usage floors each share and drops the rest."""
    from payouts import rating

    share = rating.share_by_units

    def floored(total_micros: int, units: Any, works: Any) -> dict:
        parts = share(total_micros, units, works)
        if len(parts) < 2 or total_micros <= 0:
            return parts
        weights = {work: units.get(work, 0) for work in parts}
        weight_sum = sum(weights.values())
        if weight_sum <= 0:
            return parts
        return {work: total_micros * weight // weight_sum for work, weight in weights.items()}

    patch.setattr(rating, "share_by_units", floored)


def payout_claim_unchecked(patch: Any) -> None:
    """(d) The claim takes the drafted amount without looking at the payable (the bug
    h20 fixed): a negative adjustment posted after the draft is paid out anyway."""
    from payouts.services import payout_dispatch

    patch.setattr(payout_dispatch, "payout_payable_lock", lambda *, item: 10**18)


PLANTS: dict[str, Callable[[Any], None]] = {
    "payout_key_from_attempt": payout_key_from_attempt,
    "usage_dedup_dropped": usage_dedup_dropped,
    "rounding_loses_a_micro": rounding_loses_a_micro,
    "payout_claim_unchecked": payout_claim_unchecked,
}
