"""Purchases, the licenses they grant, and the invoice lines of invoice-billed sales."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q

from config.api.ids import public_id
from licensing.currencies import CURRENCY_CHOICES
from licensing.models.base import PUBLIC_ID_LENGTH
from licensing.models.catalogue import OfferVersion, Work
from licensing.models.licensees import LicenseeOrganization


def purchase_public_id() -> str:
    return public_id("pur")


def license_public_id() -> str:
    return public_id("lic")


class Purchase(models.Model):
    """One request to buy a license, once per organisation and request key.

    Paid by card, the row is committed before Stripe is called, and its id derives the
    PaymentIntent's idempotency key, so a retry after a crash finds the same
    PaymentIntent instead of charging twice. A declined card leaves this row (status
    failed) and nothing else. Invoiced or free, the row commits with the license, so
    a retry finds the license instead of billing it twice.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending (payment under way)"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    public_id = models.CharField(
        max_length=PUBLIC_ID_LENGTH, unique=True, editable=False, default=purchase_public_id
    )
    organization = models.ForeignKey(
        LicenseeOrganization, on_delete=models.PROTECT, related_name="purchases"
    )
    request_key = models.CharField(
        max_length=255, help_text="The client's Idempotency-Key, or a fresh one when none was sent."
    )
    request_digest = models.CharField(max_length=64, help_text="What was asked: offer and works.")
    offer_version = models.ForeignKey(OfferVersion, on_delete=models.PROTECT, related_name="+")
    offer_version_digest = models.CharField(
        max_length=64,
        blank=True,
        help_text="SHA-256 of the version's terms as quoted: what the license grants.",
    )
    work_ids = models.JSONField(default=list, help_text="The works' ids as asked.")
    amount = models.BigIntegerField(help_text="Minor units.")
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    payment_intent_id = models.CharField(max_length=255, blank=True)
    failure_code = models.CharField(max_length=64, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "request_key"], name="purchase_once_per_request_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.public_id} ({self.status})"


class License(models.Model):
    """The right of one organisation to one use of some works, on the terms of one version."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"

    public_id = models.CharField(
        max_length=PUBLIC_ID_LENGTH, unique=True, editable=False, default=license_public_id
    )
    organization = models.ForeignKey(
        LicenseeOrganization, on_delete=models.PROTECT, related_name="licenses"
    )
    offer_version = models.ForeignKey(
        OfferVersion, on_delete=models.PROTECT, related_name="licenses"
    )
    works = models.ManyToManyField(Work, related_name="licenses")
    purchase = models.OneToOneField(
        Purchase, on_delete=models.PROTECT, null=True, blank=True, related_name="license"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(
        null=True, blank=True, help_text="Empty: open-ended (a per-unit offer without a term)."
    )
    amount = models.BigIntegerField(help_text="Paid or invoiced at purchase, in minor units.")
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    commission_basis_points = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(10_000)],
        help_text="The platform's commission on this license, as the setting was at purchase.",
    )
    ledger_transaction_id = models.BigIntegerField(
        null=True, blank=True, help_text="The sale's posting in the ledger, when money moved."
    )
    certificate = models.TextField(help_text="The signed certificate (compact JWS).")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=500, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["organization", "-id"], name="license_organization_newest"),
            models.Index(fields=["status", "ends_at"], name="license_status_ends"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="license_ends_after_start",
            ),
            models.CheckConstraint(
                condition=~Q(status="revoked") | Q(revoked_at__isnull=False),
                name="license_revoked_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.public_id


class InvoiceLine(models.Model):
    """An amount an invoice-billed organisation owes, for its next monthly invoice."""

    organization = models.ForeignKey(
        LicenseeOrganization, on_delete=models.PROTECT, related_name="invoice_lines"
    )
    license = models.OneToOneField(License, on_delete=models.PROTECT, related_name="invoice_line")
    period = models.CharField(max_length=7, help_text="YYYY-MM, the month it is billed in.")
    description = models.CharField(max_length=500)
    amount = models.BigIntegerField(help_text="Minor units.")
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["organization", "period"], name="invoice_line_org_period")]

    def __str__(self) -> str:
        return f"{self.organization} {self.period}: {self.amount} {self.currency}"
