"""Licensee organisations, their members, and the API keys of every principal."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from config.api.ids import public_id
from licensing.currencies import CURRENCY_CHOICES
from licensing.models.base import PUBLIC_ID_LENGTH, history_user
from licensing.models.catalogue import Creator


def api_key_public_id() -> str:
    return public_id("key")


class ApiKey(models.Model):
    """A hashed API key; the raw key is shown once, at creation, and never stored."""

    class Kind(models.TextChoices):
        CREATOR = "creator", "Creator"
        ORGANIZATION = "organization", "Licensee organisation"
        FINANCE = "finance", "Finance"

    public_id = models.CharField(
        max_length=PUBLIC_ID_LENGTH, unique=True, editable=False, default=api_key_public_id
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    prefix = models.CharField(
        max_length=20, help_text="The first characters of the key, to recognise it by."
    )
    key_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the key.")
    creator = models.ForeignKey(
        Creator, on_delete=models.CASCADE, null=True, blank=True, related_name="api_keys"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="api_keys",
        help_text="The person the key acts for (the creator's or the finance user's login).",
    )
    organization = models.ForeignKey(
        "LicenseeOrganization",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="api_keys",
    )
    name = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="creator") | Q(creator__isnull=False),
                name="api_key_creator_has_creator",
            ),
            models.CheckConstraint(
                condition=~Q(kind="finance") | Q(user__isnull=False),
                name="api_key_finance_has_user",
            ),
            models.CheckConstraint(
                condition=~Q(kind="organization") | Q(organization__isnull=False),
                name="api_key_organization_has_organization",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.kind})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


def organization_public_id() -> str:
    return public_id("org")


class LicenseeOrganization(models.Model):
    """An AI developer that buys licenses over the API, paying by card or by invoice."""

    class Billing(models.TextChoices):
        CARD = "card", "Card on file (charged at purchase)"
        INVOICE = "invoice", "Invoice (billed monthly)"

    public_id = models.CharField(
        max_length=PUBLIC_ID_LENGTH, unique=True, editable=False, default=organization_public_id
    )
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=200)
    billing = models.CharField(max_length=10, choices=Billing.choices, default=Billing.INVOICE)
    currency = models.CharField(
        max_length=3,
        choices=CURRENCY_CHOICES,
        default="eur",
        help_text="The one currency the organisation pays in; offers in others are refused.",
    )
    stripe_customer_id = models.CharField(max_length=255, blank=True)
    stripe_payment_method_id = models.CharField(max_length=255, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="OrganizationMembership", related_name="organizations"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(billing="card") | ~Q(stripe_customer_id=""),
                name="organization_card_billing_has_customer",
            )
        ]

    def __str__(self) -> str:
        return self.name


class OrganizationMembership(models.Model):
    """A person who may manage an organisation in the portal."""

    organization = models.ForeignKey(
        LicenseeOrganization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="organization_memberships"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_once")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization}"
