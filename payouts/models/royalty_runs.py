"""Royalty runs: one month's declared usage rated into lines, approved, then posted.

A run walks `computing → computed → approved → posting → posted`, or ends `failed`
with the reason. While `computed` it is a preview (its lines exist, the books hold
nothing) and may be recomputed; approval is recorded per finance user, and a run
whose total in a currency is above `ROYALTY_SECOND_APPROVAL_ABOVE` needs a second,
different user. Posting writes one ledger transaction per license, keyed
`royalty:{run}:{license}`, in bounded chunks; `posted_through_license_id` is the
progress a re-run after a crash resumes from (the keys make any overlap harmless).

At most one run per period that has not failed: so there is never more than one
posted run for a month, enforced by a partial unique index, not only in Python.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from config.api.ids import public_id
from licensing.currencies import CURRENCY_CHOICES
from licensing.models import PUBLIC_ID_LENGTH, Creator, License, Work


def royalty_run_public_id() -> str:
    return public_id("rr")


class RoyaltyRun(models.Model):
    """One period's royalty run."""

    class Status(models.TextChoices):
        COMPUTING = "computing", "Computing"
        COMPUTED = "computed", "Computed (preview)"
        APPROVED = "approved", "Approved"
        POSTING = "posting", "Posting"
        POSTED = "posted", "Posted"
        FAILED = "failed", "Failed"

    public_id = models.CharField(
        max_length=PUBLIC_ID_LENGTH, unique=True, editable=False, default=royalty_run_public_id
    )
    period = models.CharField(max_length=7, help_text="YYYY-MM, a calendar month (UTC).")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.COMPUTING)
    failure_reason = models.CharField(max_length=500, blank=True)
    # Per currency: {"eur": {"gross_micros", "commission_micros", "net_micros", "lines"}}.
    totals = models.JSONField(default=dict, blank=True)
    # Flagged usage of the period, per (organisation, work, flag), for staff to act on.
    flagged = models.JSONField(default=list, blank=True)
    licenses_total = models.PositiveIntegerField(default=0)
    licenses_posted = models.PositiveIntegerField(default=0)
    posted_through_license_id = models.BigIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["period"],
                condition=~Q(status="failed"),
                name="royalty_run_one_live_per_period",
            ),
            models.CheckConstraint(
                condition=~Q(status="failed") | ~Q(failure_reason=""),
                name="royalty_run_failed_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.period} ({self.status})"


class RoyaltyApproval(models.Model):
    """A finance user's approval of a run; once per user and run."""

    run = models.ForeignKey(RoyaltyRun, on_delete=models.CASCADE, related_name="approvals")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "user"], name="royalty_approval_once_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.run_id} approved by {self.user_id}"


class RoyaltyLine(models.Model):
    """What one creator earns from one work of one license in a run, by kind."""

    class Kind(models.TextChoices):
        PER_UNIT = "per_unit", "Per unit"
        POOL = "pool", "Pool"
        MINIMUM = "minimum", "Minimum top-up"
        ADJUSTMENT = "adjustment", "Adjustment (late correction)"

    run = models.ForeignKey(RoyaltyRun, on_delete=models.CASCADE, related_name="lines")
    creator = models.ForeignKey(Creator, on_delete=models.PROTECT, related_name="+")
    work = models.ForeignKey(Work, on_delete=models.PROTECT, related_name="+")
    license = models.ForeignKey(License, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    units = models.BigIntegerField(help_text="Signed for adjustments.")
    rate = models.DecimalField(
        max_digits=24,
        decimal_places=12,
        null=True,
        blank=True,
        help_text="unit_amount_decimal (minor units a unit) for per-unit and adjustment lines.",
    )
    gross_micros = models.BigIntegerField()
    commission_micros = models.BigIntegerField()
    net_micros = models.BigIntegerField()
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)

    class Meta:
        ordering = ["run_id", "license_id", "work_id", "kind", "creator_id"]
        indexes = [
            models.Index(fields=["run", "license"], name="royalty_line_run_license"),
            models.Index(fields=["run", "creator"], name="royalty_line_run_creator"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "creator", "work", "license", "kind"],
                name="royalty_line_once",
            ),
            models.CheckConstraint(
                condition=Q(gross_micros=models.F("commission_micros") + models.F("net_micros")),
                name="royalty_line_gross_is_commission_plus_net",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.license_id}/{self.work_id}/{self.kind}/{self.creator_id}"
