"""Charging card-billed organisations' invoices: after the run commits, retried with backoff.

An attempt is two transactions around one Stripe call, never a lock held while Stripe
is asked:

1. **Claim** (the invoice's row locked): only an `open` card invoice whose
   `next_charge_at` has come; the attempt is counted and `next_charge_at` pushed out
   by `INVOICE_CHARGE_LEASE_SECONDS`, so a second worker (or the beat job) leaves it
   alone while this one runs, and picks it up if this one dies.
2. **Charge**: an off-session PaymentIntent through `payouts.stripe.gateway`, keyed
   `accord-invoice:{invoice}` (`:retry-{n}` after n definite declines) with the
   invoice in its metadata, so Stripe's `payment_intent.succeeded` can complete it too.
3. **Record**: success posts the payment (`invoice_payment_record`, once); a decline
   keeps the invoice `open` with the bank's reason and the next try after
   `INVOICE_CHARGE_BACKOFF_BASE_SECONDS * 2^(n-1)` (capped), with a new key; an
   unknown outcome (timeout, 5xx) keeps the key and the card, so the retry replays
   what Stripe did instead of charging twice. After `INVOICE_CHARGE_ATTEMPTS_MAX`
   attempts the job stops and leaves the invoice to staff (it shows in the admin).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from licensing.models import LicenseeOrganization
from payouts.models import Invoice
from payouts.services.invoices import invoice_payment_record
from payouts.stripe import gateway
from payouts.stripe.errors import CardDeclined, GatewayError, GatewayUnavailable

logger = logging.getLogger("accord.payouts.invoices")

UNKNOWN_OUTCOME = "payment_provider_unavailable"
DUE_BATCH_MAX = 100
CARD = LicenseeOrganization.Billing.CARD


def invoice_charge_key(invoice: Invoice) -> str:
    suffix = f":retry-{invoice.charge_refusals}" if invoice.charge_refusals else ""
    return f"accord-invoice:{invoice.public_id}{suffix}"


def charge_backoff_seconds(refusals: int) -> float:
    base = settings.INVOICE_CHARGE_BACKOFF_BASE_SECONDS
    return min(base * 2 ** max(refusals - 1, 0), settings.INVOICE_CHARGE_BACKOFF_MAX_SECONDS)


def _claim(invoice_id: int, now: datetime) -> Invoice | None:
    with transaction.atomic():
        invoice = (
            Invoice.objects.select_for_update(of=("self",))
            .select_related("organization")
            .get(pk=invoice_id)
        )
        if (
            invoice.status != Invoice.Status.OPEN
            or invoice.billing != CARD
            or invoice.next_charge_at is None
            or invoice.next_charge_at > now
        ):
            return None
        if invoice.failure_code != UNKNOWN_OUTCOME or not invoice.charge_payment_method_id:
            # A fresh key: charge the card on file now (it may have been replaced).
            invoice.charge_customer_id = invoice.organization.stripe_customer_id
            invoice.charge_payment_method_id = invoice.organization.stripe_payment_method_id
        invoice.charge_attempts += 1
        invoice.last_charge_at = now
        invoice.next_charge_at = now + timedelta(seconds=settings.INVOICE_CHARGE_LEASE_SECONDS)
        invoice.save()
        return invoice


def _not_paid(
    invoice: Invoice, *, code: str, message: str, refused: bool, now: datetime
) -> Invoice:
    """Record a failed attempt: the reason, and when the beat job tries again (if ever)."""
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if invoice.status != Invoice.Status.OPEN:
            return invoice  # paid meanwhile (the webhook, or finance)
        if refused:
            invoice.charge_refusals += 1
        invoice.failure_code = code[:64]
        invoice.failure_message = message[:500]
        if invoice.charge_attempts >= settings.INVOICE_CHARGE_ATTEMPTS_MAX:
            invoice.next_charge_at = None  # staff take it from here
        else:
            delay = charge_backoff_seconds(max(invoice.charge_refusals, invoice.charge_attempts))
            invoice.next_charge_at = now + timedelta(seconds=delay)
        invoice.save()
    logger.warning("invoice %s not paid by card: %s", invoice.public_id, code)
    return invoice


def invoice_charge(*, invoice_id: int, at: datetime | None = None) -> Invoice:
    """Charge a due card invoice once; a no-op for one not due, paid, or being charged."""
    now = at or timezone.now()
    invoice = _claim(invoice_id, now)
    if invoice is None:
        return Invoice.objects.get(pk=invoice_id)
    try:
        intent = gateway.payment_intent_confirm_off_session(
            idempotency_key=invoice_charge_key(invoice),
            customer_id=invoice.charge_customer_id,
            payment_method_id=invoice.charge_payment_method_id,
            amount=invoice.amount_due,
            currency=invoice.currency,
            metadata={"accord_invoice": invoice.public_id},
            description=f"Accord invoice {invoice.public_id} ({invoice.period})",
        )
    except GatewayUnavailable as unknown:
        return _not_paid(
            invoice, code=UNKNOWN_OUTCOME, message=str(unknown), refused=False, now=now
        )
    except CardDeclined as declined:
        code = declined.decline_code or "card_declined"
        return _not_paid(invoice, code=code, message=declined.message, refused=True, now=now)
    except GatewayError as refused:
        code = refused.stripe_code or str(refused.code)
        return _not_paid(invoice, code=code, message=refused.message, refused=True, now=now)
    if intent.status != "succeeded":
        message = f"The payment is {intent.status}."
        return _not_paid(invoice, code="payment_incomplete", message=message, refused=True, now=now)
    paid, _ = invoice_payment_record(
        invoice_id=invoice.pk, paid_by=Invoice.PaidBy.CARD, payment_intent_id=intent.id, at=now
    )
    if paid.payment_intent_id != intent.id:
        # Paid another way while the card was charged: the money came twice; say so.
        logger.error("invoice %s charged (%s) after it was paid", paid.public_id, intent.id)
    return paid


def invoices_charge_due_ids(*, at: datetime | None = None) -> list[int]:
    """Open card invoices whose next attempt has come (bounded; the beat job's work)."""
    now = at or timezone.now()
    due = Invoice.objects.filter(status=Invoice.Status.OPEN, billing=CARD, next_charge_at__lte=now)
    return list(due.order_by("next_charge_at", "id").values_list("pk", flat=True)[:DUE_BATCH_MAX])


def invoice_charge_retry_now(*, invoice: Invoice) -> Invoice:
    """Staff ask for another attempt at once (e.g. the licensee replaced its card)."""
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if invoice.status == Invoice.Status.OPEN and invoice.billing == CARD:
            invoice.next_charge_at = timezone.now()
            invoice.charge_attempts = min(
                invoice.charge_attempts, settings.INVOICE_CHARGE_ATTEMPTS_MAX - 1
            )
            invoice.save(update_fields=["next_charge_at", "charge_attempts"])
    return invoice
