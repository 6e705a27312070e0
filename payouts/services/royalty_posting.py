"""Posting an approved royalty run to the ledger: in bounded chunks, exactly once.

One ledger transaction per license, keyed `royalty:{run}:{license}` (our rows, never
an attempt), effective at the period's end. Per-unit, minimum and adjustment lines
debit the organisation's receivable (the gross) and credit the platform's commission
and each creator's payable (the nets); pool lines debit the license's pool and
credit the payables (the pool's commission was taken at purchase).

Licenses are posted in id order, `LICENSES_PER_CHUNK` at a time; each chunk's
transactions and the run's progress (`posted_through_license_id`) commit together,
so a worker killed mid-chunk leaves nothing of it, and a re-run resumes from the
last committed chunk. Were the progress ever behind, the keys make the replay a
no-op. When every license is posted the period's usage is closed and the run is
`posted`, in one transaction, which also issues the period's invoices
(`payouts.services.invoices`); card invoices are charged after it commits.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from ledger.posting import Leg, Posting
from ledger.services import AccountRef, accounts_lock, accounts_open, transactions_post_many
from licensing.accounts import (
    CREATOR_OWNER_TYPE,
    creator_payable,
    license_pool,
    organization_receivable,
    platform_commission,
)
from payouts.models import RoyaltyLine, RoyaltyRun
from payouts.periods import period_window
from payouts.services import royalty_usage
from payouts.services.invoices import invoices_charge_enqueue, invoices_issue

LICENSES_PER_CHUNK = 200
ROYALTY_KIND = "royalty"
Status = RoyaltyRun.Status


def royalty_posting_key(run: RoyaltyRun, license_public_id: str) -> str:
    return f"royalty:{run.public_id}:{license_public_id}"


def royalty_run_reconcile(run: RoyaltyRun) -> None:
    """Assert the lines still add up to the totals computed (and shown) before approval."""
    rows = run.lines.values("currency").annotate(
        gross=Sum("gross_micros"),
        commission=Sum("commission_micros"),
        net=Sum("net_micros"),
        lines=Count("id"),
    )
    found = {
        row["currency"]: {
            "gross_micros": row["gross"],
            "commission_micros": row["commission"],
            "net_micros": row["net"],
            "lines": row["lines"],
        }
        for row in rows
    }
    assert found == run.totals, (found, run.totals)
    for total in found.values():
        assert total["gross_micros"] == total["commission_micros"] + total["net_micros"], total


@dataclass
class _LicenseTotals:
    """One license's lines, summed per creator in SQL: what its transaction moves."""

    public_id: str
    currency: str
    organization: str
    pool: bool
    nets: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # by creator
    gross: int = 0
    commission: int = 0


def _chunk_totals(run: RoyaltyRun, license_ids: list[int]) -> dict[int, _LicenseTotals]:
    """The chunk's lines summed per (license, creator, kind) by the database.

    Rows, not model instances: a chunk has thousands of lines, and building each with
    its creator, license and organisation cost more than everything else posting does.
    """
    rows = (
        run.lines.filter(license_id__in=license_ids)
        .values_list(
            "license_id",
            "license__public_id",
            "license__currency",
            "license__organization__public_id",
            "creator__public_id",
            "kind",
        )
        .annotate(
            gross=Sum("gross_micros"), commission=Sum("commission_micros"), net=Sum("net_micros")
        )
        .order_by()
    )
    totals: dict[int, _LicenseTotals] = {}
    for (
        license_id,
        public_id,
        currency,
        organization,
        creator,
        kind,
        gross,
        commission,
        net,
    ) in rows:
        pool = kind == RoyaltyLine.Kind.POOL
        license = totals.get(license_id)
        if license is None:
            license = totals[license_id] = _LicenseTotals(public_id, currency, organization, pool)
        assert license.pool == pool, "a license is pool or per-unit"
        # sum(bigint) is numeric on PostgreSQL: Decimals, which the ledger refuses.
        license.nets[creator] += int(net)
        license.gross += int(gross)
        license.commission += int(commission)
    return totals


def _license_legs(license: _LicenseTotals) -> list[tuple[AccountRef, int]]:
    """One license's signed legs (debit > 0), summed per account, zero legs dropped."""
    currency = license.currency
    amounts: dict[AccountRef, int] = defaultdict(int)
    for creator, net in license.nets.items():
        amounts[creator_payable(creator, currency)] -= net
    if license.pool:
        amounts[license_pool(license.public_id, currency)] += sum(license.nets.values())
    else:
        amounts[platform_commission(currency)] -= license.commission
        amounts[organization_receivable(license.organization, currency)] += license.gross
    legs = [(ref, amount) for ref, amount in amounts.items() if amount]
    assert sum(amount for _, amount in legs) == 0, license.public_id
    return sorted(legs, key=lambda leg: (leg[0].owner_type, leg[0].owner_id, leg[0].name))


def _chunk_postings(
    run: RoyaltyRun, license_ids: list[int], effective_at, opened: dict[AccountRef, object]
) -> list[Posting]:
    """The chunk's postings; `opened` caches the job's accounts across its chunks.

    A run's licenses pay mostly the same creators, so each chunk would otherwise open
    (find) the same thousands of accounts again; accounts are never removed, so one
    found earlier in the job is still the account.
    """
    totals = _chunk_totals(run, license_ids)
    legs_by_license = {pk: _license_legs(license) for pk, license in totals.items()}
    missing = {ref for legs in legs_by_license.values() for ref, _ in legs} - opened.keys()
    if missing:
        opened.update(accounts_open(refs=list(missing)))
    postings = []
    for pk in license_ids:
        legs = legs_by_license.get(pk)
        if not legs:
            continue  # every line of the license is zero: nothing moves
        license = totals[pk]
        postings.append(
            Posting(
                idempotency_key=royalty_posting_key(run, license.public_id),
                kind=ROYALTY_KIND,
                legs=[Leg(opened[ref], amount, license.currency) for ref, amount in legs],
                reference=f"royalty_run:{run.public_id}",
                memo=f"Royalty run {run.period}, license {license.public_id}",
                effective_at=effective_at,
            )
        )
    return postings


def _debited_payables_lock(postings: list[Posting]) -> None:
    """Lock the payables this chunk debits (negative adjustments) before posting.

    A payout claims a payable under the same lock (`payout_payable_lock`): either the
    claim sees this debit and sends no more than what is left, or this debit waits for
    the claim and lands after the money left (the creator then owes it, netted against
    later earnings). Credits need no lock: they only add to what a claim saw.
    """
    debited = [
        leg.account
        for posting in postings
        for leg in posting.legs
        if leg.amount_micros > 0 and leg.account.owner_type == CREATOR_OWNER_TYPE
    ]
    if debited:
        accounts_lock(accounts=debited)


def _begin(run_id: int) -> RoyaltyRun | None:
    with transaction.atomic():
        run = RoyaltyRun.objects.select_for_update().get(pk=run_id)
        if run.status == Status.APPROVED:
            royalty_run_reconcile(run)
            run.status = Status.POSTING
            run.licenses_total = run.lines.values("license_id").distinct().count()
            run.save(update_fields=["status", "licenses_total"])
        return run if run.status == Status.POSTING else None


def _post_next_chunk(run_id: int, chunk: int, effective_at, opened: dict) -> bool:
    """Post the next chunk of licenses with the run's progress; False when none is left."""
    with transaction.atomic():
        run = RoyaltyRun.objects.select_for_update().get(pk=run_id)
        if run.status != Status.POSTING:
            return False
        license_ids = list(
            run.lines.filter(license_id__gt=run.posted_through_license_id)
            .values_list("license_id", flat=True)
            .distinct()
            .order_by("license_id")[:chunk]
        )
        if not license_ids:
            return False
        postings = _chunk_postings(run, license_ids, effective_at, opened)
        _debited_payables_lock(postings)
        transactions_post_many(postings=postings)
        run.posted_through_license_id = license_ids[-1]
        run.licenses_posted += len(license_ids)
        run.save(update_fields=["posted_through_license_id", "licenses_posted"])
        return True


def royalty_run_post(
    *, run_id: int, chunk: int | None = None, at: datetime | None = None
) -> RoyaltyRun:
    """The posting job: post an approved (or half-posted) run, safe to run twice."""
    chunk = chunk or LICENSES_PER_CHUNK
    assert 1 <= chunk <= 10_000, chunk
    run = _begin(run_id)
    if run is None:
        return RoyaltyRun.objects.get(pk=run_id)
    effective_at = period_window(run.period)[1]
    chunks_max = run.licenses_total // chunk + 2  # a bound on the loop, never reached
    opened: dict[AccountRef, object] = {}
    for _ in range(chunks_max):
        if not _post_next_chunk(run_id, chunk, effective_at, opened):
            break
    with transaction.atomic():
        run = RoyaltyRun.objects.select_for_update().get(pk=run_id)
        if run.status == Status.POSTING:
            assert run.licenses_posted == run.licenses_total, (
                run.licenses_posted,
                run.licenses_total,
            )
            royalty_usage.period_close(period=run.period, at=at)
            run.status = Status.POSTED
            run.posted_at = at or timezone.now()
            run.save(update_fields=["status", "posted_at"])
            invoices = invoices_issue(run=run, at=at)
            # Cards are charged once the run has committed, never inside its transaction.
            charge = [invoice.pk for invoice in invoices if invoice.next_charge_at is not None]
            if charge:
                transaction.on_commit(lambda: invoices_charge_enqueue(invoice_ids=charge))
    return run
