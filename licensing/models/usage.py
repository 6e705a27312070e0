"""Usage that licensees declare, its dedup keys, corrections, and closed periods.

Design in brief (docs/usage.md says more):

- `UsageEventKey` is the identity of an event: one row per (organisation, the
  licensee's event id), for ever. Its unique constraint is what makes a repeated id a
  duplicate — within a batch, across batches, across concurrent requests and across
  months — and its integer id is also the event's id. It is a plain table on every
  database, because a unique index on a partitioned table must contain the partition
  key, and (organisation, event id) does not.
- `UsageEvent` holds the facts, one row per key. On PostgreSQL it is partitioned by
  month on `occurred_at` (declarative range partitioning, primary key `(id,
  occurred_at)`; partitions are made ahead by a beat job and on demand by the ingest,
  see `licensing.services.usage_partitions`), so a month is read without touching the
  others. On SQLite it is one plain table. Django sees `id` as the primary key either
  way: ids come from the key table, so they are unique across partitions too.
- `flag` is null for a rated event, else the one reason it is not rated
  (`reserved`, `unlicensed`, `out_of_term`): flagged usage is stored, never refused.
- `UsageCorrection` keeps every correction with who, when and why. While the event's
  period is open the event is amended in place (and the correction records the units
  before and after); once the period is closed the event is never changed again and
  the correction is an adjustment booked in the next open period instead.
- `UsagePeriod` rows exist for closed periods only: a month with no row is open.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from licensing.models.catalogue import Work
from licensing.models.licensees import ApiKey, LicenseeOrganization
from licensing.models.licenses import License

EVENT_ID_LENGTH_MAX = 128
# JSON numbers above 2^53 lose precision in most clients' parsers: refused (API.md).
UNITS_MAX = 2**53
MODEL_NAME_LENGTH_MAX = 200
PERIOD_LENGTH = 7


class UsageFlag(models.TextChoices):
    """Why a stored event is not rated; the first that applies, in this order."""

    RESERVED = "reserved", "Reserved work"
    UNLICENSED = "unlicensed", "Work not in the license"
    OUT_OF_TERM = "out_of_term", "Outside the license's term"


class UsageEventKey(models.Model):
    """One licensee event id of one organisation, for ever: the dedup rule itself."""

    # No index of its own (the unique constraint's index starts with it) and no
    # database FK constraint: see UsageEvent.
    organization = models.ForeignKey(
        LicenseeOrganization,
        on_delete=models.PROTECT,
        related_name="usage_event_keys",
        db_index=False,
        db_constraint=False,
    )
    event_id = models.CharField(max_length=EVENT_ID_LENGTH_MAX)
    occurred_at = models.DateTimeField(help_text="The event's time: finds its partition.")
    period = models.CharField(max_length=PERIOD_LENGTH)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "event_id"], name="usage_event_id_once_per_organization"
            )
        ]

    def __str__(self) -> str:
        return self.event_id


class UsageEvent(models.Model):
    """One declared use of one work under one license (partitioned by month on PostgreSQL)."""

    id = models.BigIntegerField(primary_key=True, help_text="The id of its UsageEventKey.")
    # No single-column FK indexes: the composite indexes below start with each column,
    # and every index costs the ingest a write per event. No database FK constraints
    # either: their checks ran at commit, one per event and reference (four an event, 40%
    # of the database's time per batch, docs/usage.md "Performance"); the ingest
    # takes the same FOR KEY SHARE locks itself, once per referenced row
    # (services.usage_references), and PROTECT still refuses deleting a row
    # that usage refers to (Django's collector checks it).
    organization = models.ForeignKey(
        LicenseeOrganization,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    event_id = models.CharField(max_length=EVENT_ID_LENGTH_MAX)
    license = models.ForeignKey(
        License,
        on_delete=models.PROTECT,
        related_name="usage_events",
        db_index=False,
        db_constraint=False,
    )
    work = models.ForeignKey(
        Work,
        on_delete=models.PROTECT,
        related_name="usage_events",
        db_index=False,
        db_constraint=False,
    )
    use = models.CharField(max_length=20, help_text="The license's use, copied for reports.")
    unit = models.CharField(max_length=10)
    units = models.BigIntegerField(
        help_text="As declared, or as amended while the period was open."
    )
    occurred_at = models.DateTimeField()
    period = models.CharField(max_length=PERIOD_LENGTH, help_text="YYYY-MM of occurred_at, UTC.")
    flag = models.CharField(max_length=12, choices=UsageFlag.choices, null=True, blank=True)
    model = models.CharField(max_length=MODEL_NAME_LENGTH_MAX, blank=True)
    corrections_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["organization", "id"], name="usage_event_organization_id"),
            models.Index(fields=["license", "work"], name="usage_event_license_work"),
            models.Index(fields=["work", "flag"], name="usage_event_work_flag"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(units__gte=0) & Q(units__lte=UNITS_MAX), name="usage_event_units_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id}: {self.units} {self.unit}"


class UsageCorrection(models.Model):
    """A correction of one event: kept for ever with who, when, why and what it changed."""

    class Kind(models.TextChoices):
        AMENDMENT = "amendment", "Amendment (the period was open)"
        ADJUSTMENT = "adjustment", "Adjustment (booked in the next open period)"
        LATE = "late", "Late (declared after its period closed: booked in the next open one)"

    key = models.ForeignKey(UsageEventKey, on_delete=models.PROTECT, related_name="corrections")
    organization = models.ForeignKey(
        LicenseeOrganization, on_delete=models.PROTECT, related_name="usage_corrections"
    )
    license = models.ForeignKey(License, on_delete=models.PROTECT, related_name="+")
    work = models.ForeignKey(Work, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    event_period = models.CharField(max_length=PERIOD_LENGTH)
    period = models.CharField(
        max_length=PERIOD_LENGTH,
        help_text="Where it counts: the event's period (amendment) or the next open one.",
    )
    units_before = models.BigIntegerField()
    units_after = models.BigIntegerField()
    units_delta = models.BigIntegerField(help_text="units_after - units_before, signed.")
    reason = models.CharField(max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by_key = models.ForeignKey(
        ApiKey, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["kind", "period"], name="usage_correction_kind_period"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(units_delta=models.F("units_after") - models.F("units_before")),
                name="usage_correction_delta",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.units_before} -> {self.units_after} ({self.kind})"


class UsagePeriod(models.Model):
    """A closed usage period (its royalty run is posted); a month without a row is open."""

    period = models.CharField(max_length=PERIOD_LENGTH, unique=True)
    closed_at = models.DateTimeField()

    class Meta:
        ordering = ["period"]

    def __str__(self) -> str:
        return f"{self.period} (closed)"
