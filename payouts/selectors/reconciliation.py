"""A day of the books against a day of Stripe: every difference, listed.

Three comparisons for one UTC day:

- **transfers**: each payout the ledger settled that day (`payout-settle`) against
  Stripe's transfers created that day, matched by transfer id: one side only is
  `missing_in_stripe` / `missing_in_ledger`, other amounts `amount_mismatch`;
- **charges**: each card sale the ledger booked that day (a `license-sale` debiting
  the Stripe balance) and each invoice payment that came through Stripe (an
  `invoice_payment` debiting the Stripe balance: the card charge of a card-billed
  organisation's invoice, or a PaymentIntent naming the invoice) against Stripe's
  charges of that day, matched by PaymentIntent; invoice payments finance recorded
  by hand debit the bank and are not Stripe's to confirm;
- **balance**: the ledger's net movement of the Stripe balance account against the sum
  of Stripe's balance transactions of that day (charges, transfers, their refunds;
  top-ups are the platform's own funding, outside the books), after the differences
  above are accounted for - what is left over is a difference of its own.

A record near midnight may fall on one day at Stripe and the next in the ledger: an
unmatched row is looked up on the other side without the date before it is called
missing.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from ledger.models import Entry
from ledger.money import micros_to_minor
from licensing.models import License
from payouts.models import Invoice, PayoutItem
from payouts.services.invoices import PAYMENT_KIND as INVOICE_PAYMENT_KIND
from payouts.services.payout_postings import SETTLE_KIND
from payouts.stripe import gateway
from payouts.stripe.errors import GatewayError
from payouts.stripe.results import CreatedRange, Page, PaymentIntent

SALE_KIND = "license_sale"
PAGES_MAX = 10_000
BALANCE_TYPES = frozenset({"charge", "payment", "transfer", "transfer_refund", "refund"})


@dataclass
class ReconciliationResult:
    date: datetime.date
    matched: int = 0
    differences: list[dict[str, Any]] = field(default_factory=list)
    # Per currency, how much the differences listed so far put Stripe's balance above
    # the ledger's (minor units): what the balance comparison must not count again.
    explained: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def differ(
        self,
        kind: str,
        *,
        ledger: str | None,
        stripe: str | None,
        amount: int,
        currency: str,
        balance_effect: int,
    ) -> None:
        self.differences.append(
            {
                "kind": kind,
                "ledger": ledger,
                "stripe": stripe,
                "amount": amount,
                "currency": currency,
            }
        )
        self.explained[currency] += balance_effect


def day_range(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)
    return start, start + datetime.timedelta(days=1)


def _all_pages(list_page: Callable[..., Page], **filters: Any) -> Iterator[Any]:
    starting_after = None
    for _ in range(PAGES_MAX):
        page = list_page(starting_after=starting_after, **filters)
        yield from page.items
        if not page.has_more or not page.items:
            return
        starting_after = page.items[-1].id


def _ledger_entries(day: datetime.date, kind: str, account_prefix: str) -> list[Entry]:
    start, end = day_range(day)
    return list(
        Entry.objects.filter(
            transaction__kind=kind,
            created_at__gte=start,
            created_at__lt=end,
            account__code__startswith=account_prefix,
        ).select_related("transaction")
    )


def _transfers_compare(result: ReconciliationResult, created: CreatedRange) -> None:
    stripe_transfers = {t.id: t for t in _all_pages(gateway.transfers_list, created=created)}
    # Settle postings debit "in transit": one entry each, the amount the ledger paid.
    settled = _ledger_entries(result.date, SETTLE_KIND, "platform:payouts_in_transit:")
    item_ids = [entry.transaction.reference.removeprefix("payout-item:") for entry in settled]
    items = PayoutItem.objects.in_bulk(item_ids, field_name="public_id")
    seen: set[str] = set()
    for entry in settled:
        item = items[entry.transaction.reference.removeprefix("payout-item:")]
        amount = micros_to_minor(entry.amount_micros, entry.currency)
        transfer = stripe_transfers.get(item.transfer_id)
        seen.add(item.transfer_id)
        if transfer is None:
            try:  # created at Stripe on the day before (midnight)?
                transfer = gateway.transfer_retrieve(transfer_id=item.transfer_id)
            except GatewayError:
                transfer = None
        ledger_ref = f"payout-settle:{item.public_id}"
        if transfer is None:
            result.differ(
                "missing_in_stripe",
                ledger=ledger_ref,
                stripe=item.transfer_id or None,
                amount=amount,
                currency=entry.currency,
                balance_effect=amount,
            )
        elif (transfer.amount, transfer.currency) != (amount, entry.currency):
            result.differ(
                "amount_mismatch",
                ledger=ledger_ref,
                stripe=transfer.id,
                amount=transfer.amount - amount,
                currency=entry.currency,
                balance_effect=amount - transfer.amount,
            )
        else:
            result.matched += 1
    unknown = [t for tid, t in stripe_transfers.items() if tid not in seen]
    known_elsewhere = set(
        PayoutItem.objects.filter(transfer_id__in=[t.id for t in unknown]).values_list(
            "transfer_id", flat=True
        )
    )
    for transfer in unknown:
        if transfer.id in known_elsewhere:
            result.matched += 1  # settled in the ledger on a neighbouring day
            continue
        result.differ(
            "missing_in_ledger",
            ledger=None,
            stripe=transfer.id,
            amount=transfer.amount,
            currency=transfer.currency,
            balance_effect=-(transfer.amount - transfer.amount_reversed),
        )


@dataclass(frozen=True)
class _CardMoney:
    """Money the ledger says came in through a card: a sale's or an invoice's payment."""

    ledger_ref: str
    intent_id: str
    amount: int
    currency: str


def _card_sales(day: datetime.date) -> list[_CardMoney]:
    sales = _ledger_entries(day, SALE_KIND, "platform:stripe_balance:")
    license_ids = [entry.transaction.reference.removeprefix("license:") for entry in sales]
    licenses = License.objects.select_related("purchase").in_bulk(
        license_ids, field_name="public_id"
    )
    found = []
    for entry in sales:
        license_id = entry.transaction.reference.removeprefix("license:")
        granted = licenses.get(license_id)
        intent_id = granted.purchase.payment_intent_id if granted and granted.purchase else ""
        amount = micros_to_minor(entry.amount_micros, entry.currency)
        found.append(_CardMoney(f"license-sale:{license_id}", intent_id, amount, entry.currency))
    return found


def _invoice_payments(day: datetime.date) -> list[_CardMoney]:
    """Invoice payments that came through Stripe (a card charge, a Stripe payment)."""
    payments = _ledger_entries(day, INVOICE_PAYMENT_KIND, "platform:stripe_balance:")
    invoice_ids = [entry.transaction.reference.removeprefix("invoice:") for entry in payments]
    invoices = Invoice.objects.in_bulk(invoice_ids, field_name="public_id")
    found = []
    for entry in payments:
        invoice_id = entry.transaction.reference.removeprefix("invoice:")
        invoice = invoices.get(invoice_id)
        intent_id = invoice.payment_intent_id if invoice else ""
        amount = micros_to_minor(entry.amount_micros, entry.currency)
        found.append(_CardMoney(f"invoice-payment:{invoice_id}", intent_id, amount, entry.currency))
    return found


def _booked_elsewhere(intent_id: str) -> bool:
    """Whether a charge's PaymentIntent is in the books on another day (midnight)."""
    return (
        License.objects.filter(purchase__payment_intent_id=intent_id).exists()
        or Invoice.objects.filter(payment_intent_id=intent_id, status=Invoice.Status.PAID).exists()
    )


def _charges_compare(result: ReconciliationResult, created: CreatedRange) -> None:
    charges = {
        c.payment_intent_id: c
        for c in _all_pages(gateway.charges_list, created=created)
        if c.status == "succeeded" and c.payment_intent_id
    }
    # One charge may pay several postings: a clearance's one PaymentIntent pays one
    # license per offer, each with its own sale posting. Compare per PaymentIntent.
    by_intent: dict[str, list[_CardMoney]] = defaultdict(list)
    for index, money in enumerate(_card_sales(result.date) + _invoice_payments(result.date)):
        # Money without a PaymentIntent is its own group, never merged with another.
        by_intent[money.intent_id or f"none:{index}"].append(money)
    for group_key, group in by_intent.items():
        intent_id = "" if group_key.startswith("none:") else group_key
        _charge_compare(result, charges.get(intent_id), intent_id, group)
    for intent_id, charge in charges.items():
        if intent_id not in by_intent and not _booked_elsewhere(intent_id):
            result.differ(
                "missing_in_ledger",
                ledger=None,
                stripe=charge.id,
                amount=charge.amount,
                currency=charge.currency,
                balance_effect=charge.amount,
            )


def _charge_compare(
    result: ReconciliationResult, charge: Any, intent_id: str, group: list[_CardMoney]
) -> None:
    """Compare what one PaymentIntent paid in the books with its charge (the day's, or found)."""
    ledger_ref = ",".join(money.ledger_ref for money in group)
    amount = sum(money.amount for money in group)
    currency = group[0].currency
    if charge is None:
        intent = _intent_or_none(intent_id)
        if intent is not None and intent.status == "succeeded" and intent.amount == amount:
            result.matched += len(group)  # charged the day before, booked after midnight
        else:
            result.differ(
                "missing_in_stripe",
                ledger=ledger_ref,
                stripe=intent_id or None,
                amount=amount,
                currency=currency,
                balance_effect=-amount,
            )
    elif charge.amount - charge.amount_refunded != amount:
        result.differ(
            "amount_mismatch",
            ledger=ledger_ref,
            stripe=charge.id,
            amount=charge.amount - amount,
            currency=currency,
            balance_effect=charge.amount - amount,
        )
    else:
        result.matched += len(group)


def _intent_or_none(intent_id: str) -> PaymentIntent | None:
    if not intent_id:
        return None
    try:
        return gateway.payment_intent_retrieve(payment_intent_id=intent_id)
    except GatewayError:
        return None


def _balance_compare(result: ReconciliationResult, created: CreatedRange) -> None:
    stripe_net: dict[str, int] = defaultdict(int)
    for bt in _all_pages(gateway.balance_transactions_list, created=created):
        if bt.type in BALANCE_TYPES:
            stripe_net[bt.currency] += bt.net
    start, end = day_range(result.date)
    ledger_net: dict[str, int] = defaultdict(int)
    entries = Entry.objects.filter(
        Q(account__code__startswith="platform:stripe_balance:"),
        created_at__gte=start,
        created_at__lt=end,
    ).values_list("currency", "amount_micros")
    for currency, amount_micros in entries:
        ledger_net[currency] += amount_micros
    for currency in sorted(set(stripe_net) | set(ledger_net)):
        ledger_minor = micros_to_minor(ledger_net[currency], currency)
        residual = stripe_net[currency] - ledger_minor - result.explained[currency]
        if residual:
            result.differ(
                "amount_mismatch",
                ledger=f"platform:stripe_balance:{currency}",
                stripe=f"balance_transactions:{currency}",
                amount=residual,
                currency=currency,
                balance_effect=residual,
            )


def reconciliation_for_date(*, day: datetime.date) -> ReconciliationResult:
    """Compare the ledger's payouts and card charges of `day` (UTC) with Stripe's."""
    start, end = day_range(day)
    created = CreatedRange(gte=int(start.timestamp()), lt=int(end.timestamp()))
    result = ReconciliationResult(date=day)
    _transfers_compare(result, created)
    _charges_compare(result, created)
    _balance_compare(result, created)
    return result
