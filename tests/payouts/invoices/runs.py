"""Posting a period's run in a test, with what its commits queue run as a worker would."""

from __future__ import annotations

from payouts.models import RoyaltyRun
from payouts.services.royalty_runs import royalty_run_approve, royalty_run_start


def post_run(period: str, user, capture) -> RoyaltyRun:
    """Start, compute, approve and post a period's run, running what commits queue."""
    with capture(execute=True):
        run = royalty_run_start(period=period)
    run.refresh_from_db()
    with capture(execute=True):
        royalty_run_approve(run=run, user=user)
    run.refresh_from_db()
    assert run.status == RoyaltyRun.Status.POSTED, run.failure_reason
    return run
