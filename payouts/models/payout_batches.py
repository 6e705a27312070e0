"""Payout batches: who is paid what, approved by whom, and each transfer's fate.

Design in brief:

- `PayoutAccount` is a creator's Stripe Express account, created once; its
  `payouts_enabled` follows Stripe's `account.updated` (re-read from Stripe, since
  events arrive out of order). `CreatorHold` keeps a creator out of new batches.
- `PayoutBatch` is per currency. Its `PayoutItem`s are the creators eligible when the
  draft was made, each amount already cut down to the minor unit (the sub-unit
  remainder stays on the creator's payable account). Creators left out are listed
  in `skipped` with their reason.
- A creator is in at most one unfinished item: a partial unique index on
  (creator, currency) over the statuses `pending` and `submitted` makes the database
  refuse a second one, whichever batch or race tries.
- An item's state machine is the exactly-once guarantee together with Stripe's
  idempotency: `pending` → `submitted` (payable moved to "in transit", Stripe may be
  called) → `paid` (transfer recorded, settled to the Stripe balance) or `failed`
  (money back on payable), and `paid` → `reversed`. The Transfer's idempotency key is
  `accord-payout-item:{item}` and changes (`:retry-{n}`) only after a definite refusal
  and once Stripe has confirmed, by listing the batch's transfer group, that no
  transfer exists for the item.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from config.api.ids import public_id
from licensing.models import Creator


def payout_batch_public_id() -> str:
    return public_id("pob")


def payout_item_public_id() -> str:
    return public_id("poi")


class PayoutAccount(models.Model):
    """A creator's Stripe Connect (Express) account, created once."""

    creator = models.OneToOneField(Creator, on_delete=models.PROTECT, related_name="payout_account")
    stripe_account_id = models.CharField(max_length=255, unique=True)
    payouts_enabled = models.BooleanField(default=False)
    transfers_active = models.BooleanField(default=False)
    details_submitted = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "payouts_payout_account"

    def __str__(self) -> str:
        return f"{self.stripe_account_id} ({self.creator})"

    @property
    def ready(self) -> bool:
        """Say whether a transfer to this account would be accepted."""
        return self.payouts_enabled and self.transfers_active


class CreatorHold(models.Model):
    """Finance keeps a creator out of new batches (they still accrue)."""

    creator = models.OneToOneField(Creator, on_delete=models.PROTECT, related_name="payout_hold")
    reason = models.CharField(max_length=500)
    held_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "payouts_creator_hold"

    def __str__(self) -> str:
        return f"hold on {self.creator}"


class PayoutBatch(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft"
        APPROVED = "approved"
        DISPATCHING = "dispatching"
        COMPLETED = "completed"
        COMPLETED_WITH_FAILURES = "completed_with_failures"

    public_id = models.CharField(
        max_length=32, unique=True, editable=False, default=payout_batch_public_id
    )
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.DRAFT)
    # Minor units: the sum of the items' amounts, fixed when the draft was made.
    total = models.BigIntegerField(default=0)
    items_count = models.PositiveIntegerField(default=0)
    # [{"creator": "cre_…", "amount": minor, "reason": "below_minimum"|…}]
    skipped = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "payouts_payout_batch"
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "payout batches"

    def __str__(self) -> str:
        return f"{self.public_id} ({self.currency}, {self.status})"

    @property
    def transfer_group(self) -> str:
        """Stripe's `transfer_group` of every transfer of this batch."""
        return f"accord-payout-batch:{self.public_id}"


class PayoutBatchApproval(models.Model):
    batch = models.ForeignKey(PayoutBatch, on_delete=models.CASCADE, related_name="approvals")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "payouts_payout_batch_approval"
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "user"], name="payout_approval_once_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} approved {self.batch}"


class PayoutItem(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        SUBMITTED = "submitted"
        PAID = "paid"
        FAILED = "failed"
        REVERSED = "reversed"

    OPEN_STATUSES = (Status.PENDING, Status.SUBMITTED)

    public_id = models.CharField(
        max_length=32, unique=True, editable=False, default=payout_item_public_id
    )
    batch = models.ForeignKey(PayoutBatch, on_delete=models.PROTECT, related_name="items")
    creator = models.ForeignKey(Creator, on_delete=models.PROTECT, related_name="payout_items")
    stripe_account_id = models.CharField(max_length=255)
    currency = models.CharField(max_length=3)
    amount = models.BigIntegerField(help_text="Minor units, always > 0.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    transfer_id = models.CharField(max_length=255, blank=True)
    failure_code = models.CharField(max_length=64, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    # Calls to Stripe's POST /v1/transfers for this item (every try, for the screens).
    attempts = models.PositiveIntegerField(default=0)
    # Submissions of the money (0 first, +1 on each retry of a failed item): names the
    # submit posting and, with `refusals`, the Transfer's idempotency key.
    submissions = models.PositiveIntegerField(default=0)
    # Definite refusals by Stripe so far: a new Transfer key is `:retry-{refusals}`.
    refusals = models.PositiveIntegerField(default=0)
    # Postings back to payable (failure or reversal): names `payout-return:{item}:{n}`.
    returns = models.PositiveIntegerField(default=0)
    returned_micros = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "payouts_payout_item"
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payout_item_amount_positive"),
            models.UniqueConstraint(
                fields=["creator", "currency"],
                condition=Q(status__in=["pending", "submitted"]),
                name="payout_item_one_open_per_creator",
            ),
        ]
        indexes = [models.Index(fields=["batch", "status"], name="payout_item_batch_status")]

    def __str__(self) -> str:
        return f"{self.public_id} ({self.amount} {self.currency}, {self.status})"

    @property
    def transfer_idempotency_key(self) -> str:
        """The key of the Transfer: from the item, changed only after a definite refusal."""
        key = f"accord-payout-item:{self.public_id}"
        return f"{key}:retry-{self.refusals}" if self.refusals else key


class Reconciliation(models.Model):
    """One comparison of a day of the ledger with Stripe, as the daily job stored it."""

    date = models.DateField()
    matched = models.PositiveIntegerField(default=0)
    differences = models.JSONField(default=list)
    ran_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "payouts_reconciliation"
        ordering = ["-ran_at", "-id"]

    def __str__(self) -> str:
        return f"{self.date}: {len(self.differences)} differences"
