"""Property: over random usage of per-unit and pool licenses, posted runs create and lose
no micro: each license's debit is its lines' gross, the pool gives out exactly its
period parts, nets plus commission equal gross, and the trial balance stays balanced."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ledger.models import Entry
from ledger.selectors import account_balance, account_get, trial_balance
from licensing.services.creators import finance_user_create
from payouts.models import RoyaltyRun
from payouts.services.royalty_posting import royalty_run_post
from payouts.services.royalty_runs import royalty_run_approve, royalty_run_compute
from tests.payouts.royalty_fixtures import FakeUsage, buy

pytestmark = pytest.mark.django_db


class Rollback(Exception):
    pass


@settings(
    max_examples=8,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    per_unit_units=st.lists(st.integers(0, 10**9), min_size=1, max_size=3),
    pool_units=st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)),
    pool_day=st.integers(1, 28),
)
def test_posted_runs_create_and_lose_nothing(
    catalogue, invoice_org, monkeypatch, per_unit_units, pool_units, pool_day
):
    from django.conf import settings as django_settings

    monkeypatch.setattr(django_settings, "ROYALTY_SECOND_APPROVAL_ABOVE", {}, raising=False)
    try:
        with transaction.atomic():
            _example(catalogue, invoice_org, monkeypatch, per_unit_units, pool_units, pool_day)
            raise Rollback
    except Rollback:
        pass


def _example(catalogue, invoice_org, monkeypatch, per_unit_units, pool_units, pool_day):
    usage = FakeUsage(monkeypatch)
    january = datetime(2026, 1, 2, tzinfo=UTC)
    per_unit = [
        buy(monkeypatch, organization=invoice_org, offer=catalogue.per_unit_offer, at=january)
        for _ in per_unit_units
    ]
    pool = buy(
        monkeypatch,
        organization=invoice_org,
        offer=catalogue.pool_offer,
        at=datetime(2026, 1, pool_day, 7, tzinfo=UTC),
    )
    for license, units in zip(per_unit, per_unit_units, strict=True):
        if units:
            usage.declare("2026-01", license, catalogue.solo_work, units)
    for work, units in zip((catalogue.solo_work, catalogue.shared_work), pool_units, strict=True):
        if units:
            usage.declare("2026-01", pool, work, units)
            usage.declare("2026-02", pool, work, units + 1)
    user = finance_user_create(username=f"fin-{pool_day}-{len(per_unit)}")
    for period in ("2026-01", "2026-02"):
        run = RoyaltyRun.objects.create(period=period)
        run = royalty_run_compute(run_id=run.pk)
        assert run.status == RoyaltyRun.Status.COMPUTED, run.failure_reason
        totals = run.lines.aggregate(
            g=Sum("gross_micros"), c=Sum("commission_micros"), n=Sum("net_micros")
        )
        assert (totals["g"] or 0) == (totals["c"] or 0) + (totals["n"] or 0)
        royalty_run_approve(run=run, user=user)
        run = royalty_run_post(run_id=run.pk)
        assert run.status == RoyaltyRun.Status.POSTED
        for license in per_unit:
            gross = run.lines.filter(license=license).aggregate(g=Sum("gross_micros"))["g"] or 0
            debits = (
                Entry.objects.filter(
                    transaction__idempotency_key=f"royalty:{run.public_id}:{license.public_id}",
                    amount_micros__gt=0,
                ).aggregate(d=Sum("amount_micros"))["d"]
                or 0
            )
            assert debits == gross
    # A 30-day pool bought in January is given out in full by the end of February.
    assert account_balance(account_get(code=f"license:{pool.public_id}:pool:eur")) == 0
    assert trial_balance().balanced
    royalty_sum = Entry.objects.filter(transaction__kind="royalty").aggregate(
        s=Sum("amount_micros")
    )
    assert (royalty_sum["s"] or 0) == 0
