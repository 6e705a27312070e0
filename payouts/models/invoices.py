"""Licensee invoices: what an organisation owes for a month, and how it was paid.

Design in brief:

- One `Invoice` per (royalty run, organisation, currency), written in the same
  transaction that marks the run `posted`, so an invoice exists exactly when its
  period's run is posted; a unique constraint makes issuing it twice impossible.
- Its `InvoiceItem`s are the month's invoice-billed purchases (licensing's
  `InvoiceLine`s) and, per license and kind, the run's per-unit, minimum and
  adjustment gross: exact micros, so `total_micros` is their sum and equals what the
  run and the purchases debited to the organisation's receivable, to the micro.
- Money is paid in whole minor units: `amount_due` is the total plus the sub-unit
  remainder brought forward from the organisation's previous invoice
  (`carried_in_micros`), rounded down; the new remainder is carried to the next
  invoice and stays on the receivable meanwhile, so nothing is lost or invented.
- A card-billed organisation's invoice is charged after the run's transaction
  commits (never inside it). The PaymentIntent's idempotency key is made of the
  invoice's id and the number of refusals so far: a retry after a crash or a lost
  answer replays Stripe's first answer, and only a definite decline moves to a new
  key. A decline leaves the invoice `open` with the reason; `next_charge_at` is when
  the beat job tries again, with backoff, until `INVOICE_CHARGE_ATTEMPTS_MAX`.
- Every payment (the card charge, Stripe's `payment_intent.succeeded`, or finance's
  "mark paid") is one ledger transaction keyed `invoice-payment:{invoice}`, posted
  only by whichever path finds the invoice `open` under its row lock.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from config.api.ids import public_id
from ledger.money import minor_to_micros
from licensing.currencies import CURRENCY_CHOICES
from licensing.models import PUBLIC_ID_LENGTH, License, LicenseeOrganization
from payouts.models.royalty_runs import RoyaltyRun


def invoice_public_id() -> str:
    return public_id("inv")


class Invoice(models.Model):
    """One organisation's invoice for one period and currency."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PAID = "paid", "Paid"
        VOID = "void", "Void"

    class PaidBy(models.TextChoices):
        CARD = "card", "Card on file (charged by Accord)"
        STRIPE = "stripe", "Stripe payment (payment_intent.succeeded)"
        MANUAL = "manual", "Recorded by finance (bank transfer)"
        NOTHING_DUE = "nothing_due", "Nothing due"

    public_id = models.CharField(
        max_length=PUBLIC_ID_LENGTH, unique=True, editable=False, default=invoice_public_id
    )
    organization = models.ForeignKey(
        LicenseeOrganization, on_delete=models.PROTECT, related_name="invoices"
    )
    run = models.ForeignKey(RoyaltyRun, on_delete=models.PROTECT, related_name="invoices")
    period = models.CharField(max_length=7, help_text="YYYY-MM, the month billed.")
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    billing = models.CharField(
        max_length=10,
        choices=LicenseeOrganization.Billing.choices,
        help_text="The organisation's billing when the invoice was issued.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    total_micros = models.BigIntegerField(help_text="The sum of the items, exact.")
    carried_in_micros = models.BigIntegerField(
        default=0, help_text="The sub-unit remainder brought forward from the previous invoice."
    )
    amount_due = models.BigIntegerField(
        help_text="Minor units: total plus carried in, rounded down (never below zero)."
    )
    due_at = models.DateTimeField()
    created_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    paid_by = models.CharField(max_length=12, choices=PaidBy.choices, blank=True)
    marked_paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    payment_reference = models.CharField(max_length=255, blank=True)
    payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    ledger_transaction_id = models.BigIntegerField(null=True, blank=True)
    # Card charging (card-billed organisations only).
    charge_attempts = models.PositiveIntegerField(default=0)
    charge_refusals = models.PositiveIntegerField(
        default=0, help_text="Definite declines so far: part of the next PaymentIntent's key."
    )
    # The card the current key charges: kept while an outcome is unknown, so a retry
    # sends exactly what the first request sent (Stripe replays it, never charges twice).
    charge_customer_id = models.CharField(max_length=255, blank=True)
    charge_payment_method_id = models.CharField(max_length=255, blank=True)
    next_charge_at = models.DateTimeField(null=True, blank=True)
    last_charge_at = models.DateTimeField(null=True, blank=True)
    failure_code = models.CharField(max_length=64, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-period", "-id"]
        indexes = [
            models.Index(fields=["organization", "-id"], name="invoice_organization_newest"),
            models.Index(
                fields=["next_charge_at"],
                condition=Q(status="open", next_charge_at__isnull=False),
                name="invoice_charge_due",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "organization", "currency"], name="invoice_once_per_run"
            ),
            models.CheckConstraint(condition=Q(amount_due__gte=0), name="invoice_due_not_negative"),
            models.CheckConstraint(
                condition=~Q(status="paid") | (Q(paid_at__isnull=False) & ~Q(paid_by="")),
                name="invoice_paid_says_how",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.organization} {self.period} ({self.status})"

    @property
    def carried_out_micros(self) -> int:
        """What the next invoice brings forward: what this one could not charge."""
        return (
            self.total_micros
            + self.carried_in_micros
            - minor_to_micros(self.amount_due, self.currency)
        )


class InvoiceItem(models.Model):
    """One line of an invoice: a purchase, or one license's usage of one kind."""

    class Kind(models.TextChoices):
        PURCHASE = "purchase", "Purchase"
        PER_UNIT = "per_unit", "Usage"
        MINIMUM = "minimum", "Minimum top-up"
        ADJUSTMENT = "adjustment", "Late correction"

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    license = models.ForeignKey(License, on_delete=models.PROTECT, related_name="+")
    description = models.CharField(max_length=500)
    units = models.BigIntegerField(null=True, blank=True)
    amount_micros = models.BigIntegerField()

    class Meta:
        ordering = ["invoice_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "license", "kind"], name="invoice_item_once")
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id}/{self.license_id}/{self.kind}"
