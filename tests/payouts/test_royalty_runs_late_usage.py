"""Usage declared for a month after its run read it is rated once, in the next open month.

Found by the issue-20 simulation: an event declared (through `usage_ingest`) after its
month's run computed — while finance reviewed the run, or after it posted — was stored
and never rated. Computing now closes the month's usage first; a later event of that
month is booked `late` into the next open month, whose run rates it as an adjustment,
and a recompute of its own month does not count it.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from licensing.api.usage_decode import EventInput
from licensing.models import UsageCorrection
from licensing.selectors.usage import usage_period_is_closed
from licensing.services.creators import finance_user_create
from licensing.services.usage_ingest import usage_ingest
from payouts.models import RoyaltyRun
from payouts.services.royalty_posting import royalty_run_post
from payouts.services.royalty_runs import (
    royalty_run_approve,
    royalty_run_compute,
    royalty_run_recompute,
)
from tests.payouts.royalty_fixtures import buy

pytestmark = pytest.mark.django_db

# 0.042 cents a token: 420 micros a token, commission 10%.
MICROS_PER_TOKEN = 420


def declare(organization, license, work, event_id: str, units: int, day: datetime) -> None:
    event = EventInput(
        id=event_id,
        license=license.public_id,
        work=work.public_id,
        units=units,
        unit="token",
        occurred_at=day,
    )
    receipt = usage_ingest(
        organization=organization, events=[(event, ("public_id", work.public_id))]
    )
    assert receipt.accepted == 1


def compute(period: str) -> RoyaltyRun:
    run = royalty_run_compute(run_id=RoyaltyRun.objects.create(period=period).pk)
    assert run.status == RoyaltyRun.Status.COMPUTED, run.failure_reason
    return run


def post(run: RoyaltyRun, user) -> RoyaltyRun:
    royalty_run_approve(run=run, user=user)
    return royalty_run_post(run_id=run.pk)


def kinds(run: RoyaltyRun) -> list[tuple[str, int, int]]:
    return sorted(run.lines.values_list("kind", "units", "gross_micros"))


@pytest.fixture
def per_unit(catalogue, invoice_org, monkeypatch):
    return buy(
        monkeypatch,
        organization=invoice_org,
        offer=catalogue.per_unit_offer,
        at=datetime(2026, 1, 2, tzinfo=UTC),
    )


def test_an_event_declared_after_its_month_posted_is_rated_by_the_next_run(
    catalogue, invoice_org, per_unit
):
    user = finance_user_create(username="fin")
    work = catalogue.solo_work
    declare(invoice_org, per_unit, work, "jan-1", 600, datetime(2026, 1, 10, tzinfo=UTC))
    january = post(compute("2026-01"), user)
    assert kinds(january) == [("per_unit", 600, 600 * MICROS_PER_TOKEN)]

    declare(invoice_org, per_unit, work, "jan-late", 400, datetime(2026, 1, 20, tzinfo=UTC))
    declare(invoice_org, per_unit, work, "feb-1", 250, datetime(2026, 2, 3, tzinfo=UTC))
    february = post(compute("2026-02"), user)

    late = UsageCorrection.objects.get(kind=UsageCorrection.Kind.LATE)
    assert (late.event_period, late.period, late.units_delta) == ("2026-01", "2026-02", 400)
    assert kinds(february) == [
        ("adjustment", 400, 400 * MICROS_PER_TOKEN),
        ("per_unit", 250, 250 * MICROS_PER_TOKEN),
    ]


def test_an_event_declared_while_the_run_awaits_approval_is_rated_once_next_month(
    catalogue, invoice_org, per_unit, settings
):
    settings.ROYALTY_SECOND_APPROVAL_ABOVE = {}
    user = finance_user_create(username="fin")
    work = catalogue.solo_work
    declare(invoice_org, per_unit, work, "jan-1", 600, datetime(2026, 1, 10, tzinfo=UTC))
    january = compute("2026-01")
    assert usage_period_is_closed(period="2026-01"), "computing closes the month's usage"

    # Declared while finance reviews January; January is then recomputed and posted.
    declare(invoice_org, per_unit, work, "jan-review", 300, datetime(2026, 1, 25, tzinfo=UTC))
    royalty_run_recompute(run=january)
    january = royalty_run_compute(run_id=january.pk)
    january = post(january, user)
    february = post(compute("2026-02"), user)

    assert kinds(january) == [("per_unit", 600, 600 * MICROS_PER_TOKEN)]
    assert kinds(february) == [("adjustment", 300, 300 * MICROS_PER_TOKEN)]
