"""The demo's money loop: a license agreed two months ago, last month's usage, its run.

One step of `payouts.demo.DEMO_JOB_STEPS`, idempotent: the license is recorded with
`license_agreed_record` (its request key is made of its arguments), usage events have
fixed event ids, and a posted period is found, not posted again. The run goes through
the services (start, compute, approve, post) and the jobs are run in-process whatever
Celery's mode, each safe to run twice (a run already past a step is left as it is).

Posting the run issues last month's invoices: `northwind` ends holding one (open, on
invoice billing) for the rated usage.

Usage goes through `usage_ingest`, which flags the event naming a work the license
does not cover (`unlicensed`) and counts a repeated event id as a duplicate.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from config.demo import DEMO_PASSWORD
from ledger.display import money_from_minor
from ledger.money import micros_format
from licensing.api.usage_decode import EventInput
from licensing.models import License, Offer, OfferVersion
from licensing.services.creators import finance_user_create
from licensing.services.license_agreements import license_agreed_record
from licensing.services.usage_ingest import UsageReceipt, usage_ingest
from payouts.errors import PayoutError, PayoutErrorCode
from payouts.models import RoyaltyRun
from payouts.services.invoices import royalty_run_invoices_ensure
from payouts.services.royalty_posting import royalty_run_post
from payouts.services.royalty_runs import (
    royalty_run_approve,
    royalty_run_compute,
    royalty_run_start,
)

DEMO_ORGANIZATION = "northwind"  # on invoice: the run debits its receivable
FINANCE_APPROVERS = ("finance", "finance-2")  # the second only when four eyes are needed
# (event id, units, day of last month, flagged?): the flagged one names a work the
# license does not cover, so it is stored and reported, never rated.
DEMO_USAGE = (
    ("demo-usage-1", 10_000, 3, False),
    ("demo-usage-2", 2_345, 17, False),
    ("demo-usage-3", 777, 25, True),
)


def _month_start(day: date, months_back: int) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def _per_unit_offer() -> Offer:
    """The first active eur per-item offer: not the one the purchases step buys."""
    return (
        Offer.objects.filter(
            status=Offer.Status.ACTIVE,
            work__isnull=False,
            current_version__pricing=OfferVersion.Pricing.PER_UNIT,
            current_version__currency="eur",
            current_version__unit="item",
        )
        .order_by("id")
        .first()
    )


def _usage_declare(license: License, month_start: datetime) -> UsageReceipt:
    """Declare last month's demo usage through the ingest (fixed ids: stored once)."""
    work = license.works.order_by("id").first()
    other = (
        license.offer_version.offer.creator.works.filter(reserved=False)
        .exclude(pk=work.pk)
        .order_by("id")
        .first()
    )
    events = []
    for event_id, units, day, flagged in DEMO_USAGE:
        target = other if flagged else work
        occurred_at = month_start + timedelta(days=day - 1, hours=9)
        event = EventInput(
            id=event_id, license=license.public_id, work=target.public_id, units=units,
            unit=license.offer_version.unit, occurred_at=occurred_at,
        )  # fmt: skip
        events.append((event, ("public_id", target.public_id)))
    return usage_ingest(organization=license.organization, events=events)


def _approver(username: str):
    user = get_user_model().objects.filter(username=username).first()
    return user or finance_user_create(username=username, password=DEMO_PASSWORD)


def _run_through(period: str) -> RoyaltyRun:
    """Start, compute, approve and post the period's run; a posted period is found as is."""
    try:
        run = royalty_run_start(period=period)
    except PayoutError as error:
        if error.code != PayoutErrorCode.PERIOD_POSTED:
            raise
        return RoyaltyRun.objects.get(period=period, status=RoyaltyRun.Status.POSTED)
    run = royalty_run_compute(run_id=run.pk)  # a no-op when eager Celery computed it already
    for username in FINANCE_APPROVERS:  # a second finance user only when one is not enough
        run.refresh_from_db()
        if run.status != RoyaltyRun.Status.COMPUTED:
            break
        user = _approver(username)
        if not run.approvals.filter(user=user).exists():
            royalty_run_approve(run=run, user=user)
    run.refresh_from_db()
    if run.status in (RoyaltyRun.Status.APPROVED, RoyaltyRun.Status.POSTING):
        run = royalty_run_post(run_id=run.pk)
    return run


def demo_royalties_run() -> str:
    """The money loop's demo month; returns a one-line summary."""
    today = timezone.now().date()
    last_month = _month_start(today, 1)
    offer = _per_unit_offer()
    if offer is None:
        return "royalties: no per-unit offer in the catalogue"
    license = license_agreed_record(
        organization_slug=DEMO_ORGANIZATION,
        offer_id=offer.public_id,
        work_ids=None,
        starts_on=_month_start(today, 2),
        today=today,
    )
    start = datetime.combine(last_month, datetime.min.time(), tzinfo=UTC)
    receipt = _usage_declare(license, start)
    run = _run_through(last_month.strftime("%Y-%m"))
    invoice = next(
        (
            invoice
            for invoice in royalty_run_invoices_ensure(run_id=run.pk)
            if invoice.organization_id == license.organization_id
        ),
        None,
    )
    # The next step (`payouts.demo_payouts`) pays the payables this run credited.
    totals = "; ".join(
        f"gross {micros_format(t['gross_micros'], currency)}, "
        f"net {micros_format(t['net_micros'], currency)}"
        for currency, t in sorted(run.totals.items())
    )
    return (
        f"royalties: license {license.public_id} ({DEMO_ORGANIZATION}, from "
        f"{license.starts_at.date()}); usage accepted {receipt.accepted} "
        f"(flagged {sum(receipt.flagged.values())}, duplicates {receipt.duplicates}); run "
        f"{run.public_id} {run.period} {run.status}, {run.lines.count()} lines, {totals}; "
        + (
            f"invoice {invoice.public_id} {invoice.period}: "
            f"{money_from_minor(invoice.amount_due, invoice.currency)} due, {invoice.status}"
            if invoice
            else "no invoice"
        )
    )
