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
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from ledger.posting import Leg, Posting
from ledger.services import AccountRef, accounts_open, transactions_post_many
from licensing.accounts import (
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


def _license_legs(lines: list[RoyaltyLine]) -> list[tuple[AccountRef, int]]:
    """One license's signed legs (debit > 0), summed per account, zero legs dropped."""
    license = lines[0].license
    currency = license.currency
    amounts: dict[AccountRef, int] = defaultdict(int)
    pool = lines[0].kind == RoyaltyLine.Kind.POOL
    for line in lines:
        assert (line.kind == RoyaltyLine.Kind.POOL) == pool, "a license is pool or per-unit"
        amounts[creator_payable(line.creator.public_id, currency)] -= line.net_micros
        if pool:
            amounts[license_pool(license.public_id, currency)] += line.net_micros
        else:
            amounts[platform_commission(currency)] -= line.commission_micros
            receivable = organization_receivable(license.organization.public_id, currency)
            amounts[receivable] += line.gross_micros
    legs = [(ref, amount) for ref, amount in amounts.items() if amount]
    assert sum(amount for _, amount in legs) == 0, license.public_id
    return sorted(legs, key=lambda leg: (leg[0].owner_type, leg[0].owner_id, leg[0].name))


def _chunk_postings(run: RoyaltyRun, license_ids: list[int], effective_at) -> list[Posting]:
    lines_by_license: dict[int, list[RoyaltyLine]] = defaultdict(list)
    for line in run.lines.filter(license_id__in=license_ids).select_related(
        "creator", "license", "license__organization"
    ):
        lines_by_license[line.license_id].append(line)
    legs_by_license = {pk: _license_legs(lines) for pk, lines in lines_by_license.items()}
    refs = {ref for legs in legs_by_license.values() for ref, _ in legs}
    accounts = accounts_open(refs=list(refs)) if refs else {}
    postings = []
    for pk in license_ids:
        legs = legs_by_license.get(pk)
        if not legs:
            continue  # every line of the license is zero: nothing moves
        license = lines_by_license[pk][0].license
        postings.append(
            Posting(
                idempotency_key=royalty_posting_key(run, license.public_id),
                kind=ROYALTY_KIND,
                legs=[Leg(accounts[ref], amount, license.currency) for ref, amount in legs],
                reference=f"royalty_run:{run.public_id}",
                memo=f"Royalty run {run.period}, license {license.public_id}",
                effective_at=effective_at,
            )
        )
    return postings


def _begin(run_id: int) -> RoyaltyRun | None:
    with transaction.atomic():
        run = RoyaltyRun.objects.select_for_update().get(pk=run_id)
        if run.status == Status.APPROVED:
            royalty_run_reconcile(run)
            run.status = Status.POSTING
            run.licenses_total = run.lines.values("license_id").distinct().count()
            run.save(update_fields=["status", "licenses_total"])
        return run if run.status == Status.POSTING else None


def _post_next_chunk(run_id: int, chunk: int, effective_at) -> bool:
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
        transactions_post_many(postings=_chunk_postings(run, license_ids, effective_at))
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
    for _ in range(chunks_max):
        if not _post_next_chunk(run_id, chunk, effective_at):
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
