"""Royalty runs end to end on the real catalogue and ledger, usage given as aggregates.

Catalogue (tests/licensing/licensee_fixtures.py): alice owns `solo`; `shared` is alice 6,667 bp
and bob 3,333 bp; the collection holds both. Commission 10 % (1,000 bp). EUR: a cent
is 10,000 micros.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger.models import Transaction
from ledger.selectors import account_balance, account_get, trial_balance
from licensing.services.creators import finance_user_create
from payouts.errors import PayoutError
from payouts.models import RoyaltyLine, RoyaltyRun
from payouts.selectors.royalty_runs import royalty_lines_for
from payouts.services.royalty_posting import royalty_run_post
from payouts.services.royalty_runs import (
    royalty_run_approve,
    royalty_run_recompute,
    royalty_run_start,
)
from tests.payouts.royalty_fixtures import FakeUsage, buy

pytestmark = pytest.mark.django_db


@pytest.fixture
def usage(monkeypatch):
    return FakeUsage(monkeypatch)


@pytest.fixture
def finance():
    return finance_user_create(username="fin-one"), finance_user_create(username="fin-two")


def balance(code: str) -> int:
    return account_balance(account_get(code=code))


def start_and_compute(period: str, django_capture_on_commit_callbacks) -> RoyaltyRun:
    with django_capture_on_commit_callbacks(execute=True):
        run = royalty_run_start(period=period)
    run.refresh_from_db()
    return run


def approve(run, user, django_capture_on_commit_callbacks) -> RoyaltyRun:
    with django_capture_on_commit_callbacks(execute=True):
        royalty_run_approve(run=run, user=user)
    run.refresh_from_db()
    return run


def test_per_unit_and_pool_rated_posted_and_reconciled(
    catalogue, invoice_org, usage, finance, monkeypatch, django_capture_on_commit_callbacks
):
    # Given a per-unit license on solo (0.042 cent a token) and a 30-day pool on the
    # collection (30.00 EUR) starting 20 January: 12 of its 30 days fall in January.
    per_unit = buy(
        monkeypatch,
        organization=invoice_org,
        offer=catalogue.per_unit_offer,
        at=datetime(2026, 1, 5, tzinfo=UTC),
    )
    pool = buy(
        monkeypatch,
        organization=invoice_org,
        offer=catalogue.pool_offer,
        at=datetime(2026, 1, 20, tzinfo=UTC),
    )
    usage.declare("2026-01", per_unit, catalogue.solo_work, 1_000_000)
    usage.declare("2026-01", pool, catalogue.solo_work, 3)
    usage.declare("2026-01", pool, catalogue.shared_work, 1)

    run = start_and_compute("2026-01", django_capture_on_commit_callbacks)
    assert run.status == RoyaltyRun.Status.COMPUTED
    assert Transaction.objects.filter(kind="royalty").count() == 0  # a preview only

    lines = {
        (line.license_id, line.work_id, line.creator_id, line.kind): (
            line.gross_micros,
            line.commission_micros,
            line.net_micros,
        )
        for line in run.lines.all()
    }
    alice, bob = catalogue.alice.pk, catalogue.bob.pk
    solo, shared = catalogue.solo_work.pk, catalogue.shared_work.pk
    assert lines == {
        # 1,000,000 x 0.042 = 42,000 cents = 420,000,000 micros; 10 % commission.
        (per_unit.pk, solo, alice, "per_unit"): (420_000_000, 42_000_000, 378_000_000),
        # Pool 30,000,000: commission 3,000,000, pool 27,000,000; January 12/30:
        # commission 1,200,000, net 10,800,000; by units 3:1 -> solo 900,000 + 8,100,000;
        # shared 300,000 + 2,700,000, to alice 6,667 bp (200,010 + 1,800,090) and bob
        # 3,333 bp (99,990 + 899,910).
        (pool.pk, solo, alice, "pool"): (9_000_000, 900_000, 8_100_000),
        (pool.pk, shared, alice, "pool"): (2_000_100, 200_010, 1_800_090),
        (pool.pk, shared, bob, "pool"): (999_900, 99_990, 899_910),
    }
    assert run.totals["eur"] == {
        "gross_micros": 432_000_000,
        "commission_micros": 43_200_000,
        "net_micros": 388_800_000,
        "lines": 4,
    }
    assert list(royalty_lines_for(period="2026-01")) == []  # nothing posted yet

    run = approve(run, finance[0], django_capture_on_commit_callbacks)
    assert run.status == RoyaltyRun.Status.POSTED
    assert usage.closed == ["2026-01"]
    assert royalty_lines_for(period="2026-01").count() == 4
    assert royalty_lines_for(period="2026-01", creator=catalogue.bob).count() == 1
    postings = Transaction.objects.filter(kind="royalty")
    assert postings.count() == 2
    assert {posting.effective_at for posting in postings} == {datetime(2026, 2, 1, tzinfo=UTC)}
    # The books: alice and bob are owed the nets; the licensee owes the pool sale
    # (30.00) and the per-unit gross; the pool keeps February's part.
    alice_code = f"creator:{catalogue.alice.public_id}:payable:eur"
    assert balance(alice_code) == -(378_000_000 + 8_100_000 + 1_800_090)
    assert balance(f"creator:{catalogue.bob.public_id}:payable:eur") == -899_910
    assert balance(f"license:{pool.public_id}:pool:eur") == -(27_000_000 - 10_800_000)
    receivable = f"organization:{invoice_org.public_id}:receivable:eur"
    assert balance(receivable) == 30_000_000 + 420_000_000
    assert balance("platform:commission:eur") == -(3_000_000 + 42_000_000)
    assert trial_balance().balanced

    # Posting again (a re-delivered job) posts nothing twice.
    royalty_run_post(run_id=run.pk)
    assert Transaction.objects.filter(kind="royalty").count() == 2

    # A second run of a posted period is refused, and writes nothing.
    with pytest.raises(PayoutError) as refused:
        royalty_run_start(period="2026-01")
    assert refused.value.code == "period_posted"
    assert RoyaltyRun.objects.count() == 1


def test_pool_spread_over_three_periods_sums_to_its_amount(
    catalogue, invoice_org, usage, finance, monkeypatch, django_capture_on_commit_callbacks
):
    # A 30-day pool from 31 January 12:00 spans January (0.5 day), February (28 days)
    # and March (1.5 days); nobody declares usage, so each part is shared equally.
    pool = buy(
        monkeypatch,
        organization=invoice_org,
        offer=catalogue.pool_offer,
        at=datetime(2026, 1, 31, 12, tzinfo=UTC),
    )
    nets = []
    for period in ("2026-01", "2026-02", "2026-03"):
        run = start_and_compute(period, django_capture_on_commit_callbacks)
        nets.append(sum(run.lines.values_list("net_micros", flat=True)))
        approve(run, finance[0], django_capture_on_commit_callbacks)
    # Net 27,000,000: January 27e6 x 0.5/30 = 450,000; February 27e6 x 28/30 =
    # 25,200,000; March the remainder 1,350,000.
    assert nets == [450_000, 25_200_000, 1_350_000]
    assert balance(f"license:{pool.public_id}:pool:eur") == 0
    assert trial_balance().balanced


def test_second_approval_above_the_limit_and_bad_transitions(
    catalogue,
    invoice_org,
    usage,
    finance,
    monkeypatch,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.ROYALTY_SECOND_APPROVAL_ABOVE = {"eur": 100}  # 1.00 EUR
    per_unit = buy(
        monkeypatch,
        organization=invoice_org,
        offer=catalogue.per_unit_offer,
        at=datetime(2026, 1, 5, tzinfo=UTC),
    )
    usage.declare("2026-01", per_unit, catalogue.solo_work, 10_000)  # 420 cents
    run = start_and_compute("2026-01", django_capture_on_commit_callbacks)

    run = approve(run, finance[0], django_capture_on_commit_callbacks)
    assert run.status == RoyaltyRun.Status.COMPUTED
    with pytest.raises(PayoutError) as twice:
        royalty_run_approve(run=run, user=finance[0])
    assert twice.value.code == "second_approver_required"
    assert run.approvals.count() == 1

    # Usage corrected meanwhile: a recompute drops the approvals and rates again.
    usage.declare("2026-01", per_unit, catalogue.solo_work, 10_000)
    with django_capture_on_commit_callbacks(execute=True):
        royalty_run_recompute(run=run)
    run.refresh_from_db()
    assert run.status == RoyaltyRun.Status.COMPUTED
    assert run.approvals.count() == 0
    assert run.lines.get().gross_micros == 8_400_000

    approve(run, finance[0], django_capture_on_commit_callbacks)
    run = approve(run, finance[1], django_capture_on_commit_callbacks)
    assert run.status == RoyaltyRun.Status.POSTED
    assert [a.user for a in run.approvals.all()] == list(finance)
    with pytest.raises(PayoutError) as posted:
        royalty_run_approve(run=run, user=finance[1])
    assert posted.value.code == "royalty_run_not_computed"


@pytest.mark.parametrize(
    ("period", "code"),
    [("2026-13", "period_invalid"), ("26-01", "period_invalid"), ("2999-01", "period_open")],
)
def test_bad_periods_write_nothing(period, code, usage):
    with pytest.raises(PayoutError) as refused:
        royalty_run_start(period=period)
    assert refused.value.code == code
    assert RoyaltyRun.objects.count() == 0
    assert RoyaltyLine.objects.count() == 0


def test_commission_stored_on_each_license_is_used(
    catalogue,
    invoice_org,
    usage,
    finance,
    monkeypatch,
    settings,
    django_capture_on_commit_callbacks,
):
    # Two per-unit licenses bought when the commission was 10 % and then 15 %; each
    # rates at its own rate: 10,000 tokens = 4,200,000 micros -> 420,000 / 630,000.
    first = buy(
        monkeypatch,
        organization=invoice_org,
        offer=catalogue.per_unit_offer,
        at=datetime(2026, 1, 5, tzinfo=UTC),
    )
    settings.ACCORD_COMMISSION_BASIS_POINTS = 1500
    second = buy(
        monkeypatch,
        organization=invoice_org,
        offer=catalogue.per_unit_offer,
        at=datetime(2026, 1, 6, tzinfo=UTC),
    )
    assert (first.commission_basis_points, second.commission_basis_points) == (1000, 1500)
    settings.ACCORD_COMMISSION_BASIS_POINTS = 2000  # today's rate changes nothing
    for license in (first, second):
        usage.declare("2026-01", license, catalogue.solo_work, 10_000)
    run = start_and_compute("2026-01", django_capture_on_commit_callbacks)
    commissions = dict(run.lines.values_list("license_id", "commission_micros"))
    assert commissions == {first.pk: 420_000, second.pk: 630_000}
