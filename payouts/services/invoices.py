"""Issuing licensee invoices when a run posts, and recording their payments, each once.

`invoices_issue` runs inside the transaction that marks the run `posted` (the run's
row locked), so an invoice exists exactly when its period's run is posted and never
twice (`invoice_once_per_run`). Per organisation and currency it bills what the books
already hold on the receivable: the month's invoice-billed purchases and, per license
and kind, the run's per-unit, minimum and adjustment gross. Pool lines are not
billed: the pool was paid at purchase.

`invoice_payment_record` is the one way an invoice becomes `paid` with money: the card
charge, Stripe's `payment_intent.succeeded` and finance's "mark paid" all call it. It
locks the invoice's row and posts only if the invoice is still `open`, with the key
`invoice-payment:{invoice}`, so whichever path comes first pays and the others find
it paid.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone

from ledger.money import minor_to_micros, minor_unit_micros
from ledger.services import Leg, accounts_open, transaction_post
from licensing.accounts import organization_receivable, platform_bank, platform_stripe_balance
from licensing.models import InvoiceLine, License, LicenseeOrganization
from licensing.services.creators import user_is_finance
from payouts.errors import PayoutError, PayoutErrorCode
from payouts.models import Invoice, InvoiceItem, RoyaltyLine, RoyaltyRun

PAYMENT_KIND = "invoice_payment"
BILLED_KINDS = (RoyaltyLine.Kind.PER_UNIT, RoyaltyLine.Kind.MINIMUM, RoyaltyLine.Kind.ADJUSTMENT)
Billing = LicenseeOrganization.Billing
PaidBy = Invoice.PaidBy


@dataclass
class _Draft:
    organization_id: int
    currency: str
    items: list[InvoiceItem]


def invoice_payment_key(invoice: Invoice) -> str:
    return f"invoice-payment:{invoice.public_id}"


def _usage_items(run: RoyaltyRun) -> dict[tuple[int, str], list[InvoiceItem]]:
    """Per (organisation, currency): one item per license and kind, the gross summed.

    A run has one line per (work, creator): the gross adds up over both, the units
    once per work (every co-owner's line repeats the work's units).
    """
    rows = (
        run.lines.filter(kind__in=BILLED_KINDS)
        .values("license_id", "license__organization_id", "currency", "kind", "work_id")
        .annotate(gross=Sum("gross_micros"), units=Max("units"))
        .order_by("license_id", "kind", "work_id")
    )
    per_item: dict[tuple[int, int, str, str], list[int]] = {}
    for row in rows:
        key = (row["license__organization_id"], row["license_id"], row["currency"], row["kind"])
        totals = per_item.setdefault(key, [0, 0])
        totals[0] += row["gross"]
        totals[1] += row["units"]
    licenses = License.objects.select_related("offer_version").in_bulk(
        {license_id for _, license_id, _, _ in per_item}
    )
    drafts: dict[tuple[int, str], list[InvoiceItem]] = defaultdict(list)
    for (organization_id, license_id, currency, kind), (gross, units) in per_item.items():
        granted = licenses[license_id]
        drafts[(organization_id, currency)].append(
            InvoiceItem(
                kind=kind,
                license=granted,
                description=_usage_description(granted, kind, units),
                units=units,
                amount_micros=gross,
            )
        )
    return drafts


def _usage_description(granted: License, kind: str, units: int) -> str:
    version = granted.offer_version
    unit = version.unit or "unit"
    rate = (
        format(version.unit_amount_decimal.normalize(), "f") if version.unit_amount_decimal else ""
    )
    if kind == RoyaltyLine.Kind.MINIMUM:
        return f"License {granted.public_id}: minimum for the period (top-up)"
    words = "late correction" if kind == RoyaltyLine.Kind.ADJUSTMENT else "usage"
    return (
        f"License {granted.public_id}: {words}, {units:,} {unit}s at {rate} "
        f"{granted.currency.upper()} minor units each"
    )


def _drafts(run: RoyaltyRun) -> list[_Draft]:
    by_key = _usage_items(run)
    purchases = InvoiceLine.objects.filter(period=run.period).select_related("license")
    for line in purchases.order_by("id"):
        by_key[(line.organization_id, line.currency)].insert(
            0,
            InvoiceItem(
                kind=InvoiceItem.Kind.PURCHASE,
                license=line.license,
                description=line.description,
                amount_micros=minor_to_micros(line.amount, line.currency),
            ),
        )
    return [
        _Draft(organization_id, currency, items)
        for (organization_id, currency), items in sorted(by_key.items())
    ]


def _carried_in(organization: LicenseeOrganization, currency: str) -> int:
    previous = (
        Invoice.objects.filter(organization=organization, currency=currency).order_by("-id").first()
    )
    return previous.carried_out_micros if previous else 0


def _invoice_new(
    run: RoyaltyRun, organization: LicenseeOrganization, draft: _Draft, now: datetime
) -> Invoice:
    total = sum(item.amount_micros for item in draft.items)
    carried_in = _carried_in(organization, draft.currency)
    amount_due = max(0, (total + carried_in) // minor_unit_micros(draft.currency))
    card = organization.billing == Billing.CARD
    invoice = Invoice(
        organization=organization,
        run=run,
        period=run.period,
        currency=draft.currency,
        billing=organization.billing,
        total_micros=total,
        carried_in_micros=carried_in,
        amount_due=amount_due,
        created_at=now,
        due_at=now if card else now + timedelta(days=settings.INVOICE_DUE_DAYS),
    )
    if amount_due == 0:
        invoice.status, invoice.paid_at, invoice.paid_by = (
            Invoice.Status.PAID,
            now,
            PaidBy.NOTHING_DUE,
        )
    elif card:
        invoice.next_charge_at = now  # charged once the run's transaction commits
    invoice.save(force_insert=True)
    return invoice


def invoices_issue(*, run: RoyaltyRun, at: datetime | None = None) -> list[Invoice]:
    """Issue a posted run's invoices, once (the caller's transaction holds the run's lock)."""
    assert transaction.get_connection().in_atomic_block, "issue inside the run's transaction"
    if run.invoices.exists():
        return list(run.invoices.all())
    now = at or timezone.now()
    drafts = _drafts(run)
    # The organisations' rows, locked in id order: the remainder one invoice carries to
    # the next is read and written by one run at a time.
    organizations = LicenseeOrganization.objects.select_for_update().in_bulk(
        sorted({draft.organization_id for draft in drafts})
    )
    invoices = []
    for draft in drafts:
        invoice = _invoice_new(run, organizations[draft.organization_id], draft, now)
        for item in draft.items:
            item.invoice = invoice
        InvoiceItem.objects.bulk_create(draft.items)
        invoices.append(invoice)
    return invoices


def royalty_run_invoices_ensure(*, run_id: int) -> list[Invoice]:
    """Issue a posted run's invoices if it has none (a run posted before invoices existed)."""
    with transaction.atomic():
        run = RoyaltyRun.objects.select_for_update().get(pk=run_id)
        if run.status != RoyaltyRun.Status.POSTED:
            return []
        issued = run.invoices.exists()
        invoices = invoices_issue(run=run)
        charge = [invoice.pk for invoice in invoices if invoice.next_charge_at is not None]
        if charge and not issued:
            transaction.on_commit(lambda: invoices_charge_enqueue(invoice_ids=charge))
    return invoices


def invoices_charge_enqueue(*, invoice_ids: list[int]) -> None:
    """Queue the charge of each card invoice (on commit of the run that issued them)."""
    # payouts.tasks imports the posting service, which imports this module: a cycle.
    from payouts.tasks import invoice_charge_task

    for invoice_id in invoice_ids:
        invoice_charge_task.delay(invoice_id)


def invoice_payment_record(
    *,
    invoice_id: int,
    paid_by: str,
    payment_intent_id: str = "",
    reference: str = "",
    user: Any = None,
    at: datetime | None = None,
) -> tuple[Invoice, bool]:
    """Post an open invoice's payment against the receivable; return it and whether now.

    The debit is the Stripe balance for money that came through Stripe, the bank for
    what finance records by hand; the amount is what the invoice asked (`amount_due`).
    """
    assert paid_by in (PaidBy.CARD, PaidBy.STRIPE, PaidBy.MANUAL), paid_by
    with transaction.atomic():
        invoice = (
            Invoice.objects.select_for_update(of=("self",))
            .select_related("organization")
            .get(pk=invoice_id)
        )
        if invoice.status != Invoice.Status.OPEN:
            return invoice, False
        currency = invoice.currency
        debit = (
            platform_bank(currency)
            if paid_by == PaidBy.MANUAL
            else platform_stripe_balance(currency)
        )
        credit = organization_receivable(invoice.organization.public_id, currency)
        accounts = accounts_open(refs=[debit, credit])
        amount_micros = minor_to_micros(invoice.amount_due, currency)
        posted = transaction_post(
            idempotency_key=invoice_payment_key(invoice),
            kind=PAYMENT_KIND,
            legs=[
                Leg(accounts[debit], amount_micros, currency),
                Leg(accounts[credit], -amount_micros, currency),
            ],
            reference=f"invoice:{invoice.public_id}",
            memo=f"invoice {invoice.public_id} ({invoice.period}) paid: {paid_by}",
        )
        invoice.status = Invoice.Status.PAID
        invoice.paid_at = at or timezone.now()
        invoice.paid_by = paid_by
        invoice.payment_intent_id = payment_intent_id or invoice.payment_intent_id
        invoice.payment_reference = reference[:255]
        invoice.marked_paid_by = user
        invoice.ledger_transaction_id = posted.pk
        invoice.next_charge_at = None
        invoice.save()
        return invoice, True


def invoice_mark_paid(*, invoice: Invoice, user: Any, reference: str = "") -> Invoice:
    """Finance records an open invoice as paid outside Stripe (a bank transfer, say)."""
    if not (user.is_active and user.is_staff and user_is_finance(user)):
        raise PayoutError(
            PayoutErrorCode.NOT_A_FINANCE_USER, "Only finance staff may record payments."
        )
    paid, now = invoice_payment_record(
        invoice_id=invoice.pk, paid_by=PaidBy.MANUAL, reference=reference, user=user
    )
    if not now:
        raise PayoutError(
            PayoutErrorCode.INVOICE_NOT_OPEN, f"Invoice {invoice.public_id} is {paid.status}."
        )
    return paid
