"""Royalty runs over real stored usage (h14's events and corrections, aggregated in SQL):
flagged usage is reported not rated, posting closes the period, a late correction
becomes an `adjustment` line of the next run."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from ledger.selectors import account_balance, account_get, trial_balance
from licensing.models import UsageCorrection, UsageEvent, UsageEventKey
from licensing.periods import period_of
from licensing.selectors.usage import usage_period_is_closed
from licensing.services.creators import finance_user_create
from licensing.services.usage_partitions import usage_partitions_ensure
from payouts.models import RoyaltyRun
from payouts.services.royalty_posting import royalty_run_post
from payouts.services.royalty_runs import royalty_run_approve, royalty_run_compute
from tests.payouts.royalty_fixtures import buy

pytestmark = pytest.mark.django_db


def event(organization, license, work, units, occurred_at, *, flag=None):
    period = period_of(occurred_at)
    usage_partitions_ensure(periods=[period])
    key = UsageEventKey.objects.create(
        organization=organization,
        event_id=f"e-{UsageEventKey.objects.count()}",
        occurred_at=occurred_at,
        period=period,
        created_at=timezone.now(),
    )
    UsageEvent.objects.create(
        id=key.id,
        organization=organization,
        event_id=key.event_id,
        license=license,
        work=work,
        use="ai-eval",
        unit="token",
        units=units,
        occurred_at=occurred_at,
        period=period,
        flag=flag,
        created_at=timezone.now(),
    )
    return key


def post(period: str, user) -> RoyaltyRun:
    run = royalty_run_compute(run_id=RoyaltyRun.objects.create(period=period).pk)
    royalty_run_approve(run=run, user=user)
    return royalty_run_post(run_id=run.pk)


def test_late_correction_becomes_an_adjustment_of_the_next_run(catalogue, invoice_org, monkeypatch):
    user = finance_user_create(username="fin")
    license = buy(
        monkeypatch,
        organization=invoice_org,
        offer=catalogue.per_unit_offer,
        at=datetime(2026, 1, 2, tzinfo=UTC),
    )
    # January: 600 + 400 tokens rated; 5,000 flagged (reserved work) are only reported.
    first = event(invoice_org, license, catalogue.solo_work, 600, datetime(2026, 1, 10, tzinfo=UTC))
    event(invoice_org, license, catalogue.solo_work, 400, datetime(2026, 1, 11, tzinfo=UTC))
    event(
        invoice_org,
        license,
        catalogue.reserved_work,
        5_000,
        datetime(2026, 1, 12, tzinfo=UTC),
        flag="reserved",
    )
    january = post("2026-01", user)
    # 1,000 x 0.042 = 42 cents = 420,000 micros; commission 42,000; net 378,000.
    assert list(january.lines.values_list("kind", "units", "gross_micros", "net_micros")) == [
        ("per_unit", 1_000, 420_000, 378_000)
    ]
    assert [(row["flag"], row["units"]) for row in january.flagged] == [("reserved", 5_000)]
    assert usage_period_is_closed(period="2026-01")

    # In February the licensee corrects the first event 600 -> 100: -500 tokens, booked
    # as an adjustment of February: -500 x 0.042 = -21 cents = -210,000 micros, commission
    # -21,000, net -189,000; plus 250 new tokens = 105,000 micros (net 94,500).
    UsageCorrection.objects.create(
        key=first,
        organization=invoice_org,
        license=license,
        work=catalogue.solo_work,
        kind=UsageCorrection.Kind.ADJUSTMENT,
        event_period="2026-01",
        period="2026-02",
        units_before=600,
        units_after=100,
        units_delta=-500,
        reason="recount",
        created_at=timezone.now(),
    )
    event(invoice_org, license, catalogue.solo_work, 250, datetime(2026, 2, 3, tzinfo=UTC))
    february = post("2026-02", user)
    assert sorted(february.lines.values_list("kind", "units", "gross_micros", "net_micros")) == [
        ("adjustment", -500, -210_000, -189_000),
        ("per_unit", 250, 105_000, 94_500),
    ]
    payable = account_get(code=f"creator:{catalogue.alice.public_id}:payable:eur")
    assert account_balance(payable) == -(378_000 - 189_000 + 94_500)
    assert trial_balance().balanced
