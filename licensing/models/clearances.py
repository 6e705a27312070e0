"""Dataset clearances: a training set's identifiers checked, priced, bought and certified.

A `Clearance` is one organisation's question about one dataset for one use: which of
these identifiers may be used, which must be dropped, and what licensing the rest
costs. Its `ClearanceItem`s are the distinct, normalised identifiers, each with its
status and (when licensable) the offer version it was quoted under, so a purchase can
tell whether the catalogue moved since the quote (`quote_changed`) and buy exactly
what was priced. The purchase state lives on the clearance row itself: a clearance is
bought at most once, and the row is what concurrent purchases lock.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from config.api.ids import public_id
from licensing.currencies import CURRENCY_CHOICES
from licensing.models.base import PUBLIC_ID_LENGTH
from licensing.models.catalogue import Offer, OfferVersion, Use, Work
from licensing.models.licensees import LicenseeOrganization
from licensing.models.licenses import License


def clearance_public_id() -> str:
    return public_id("clr")


class Clearance(models.Model):
    """One dataset's manifest cleared for one use, its quote, and its purchase."""

    class Status(models.TextChoices):
        READY = "ready", "Ready (quoted)"
        PURCHASING = "purchasing", "Purchasing (card payment under way)"
        PURCHASED = "purchased", "Purchased"
        FAILED = "failed", "Failed (card declined, nothing bought)"

    public_id = models.CharField(
        max_length=PUBLIC_ID_LENGTH, unique=True, editable=False, default=clearance_public_id
    )
    organization = models.ForeignKey(
        LicenseeOrganization, on_delete=models.PROTECT, related_name="clearances"
    )
    use = models.CharField(max_length=20, choices=Use.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.READY)
    manifest_sha256 = models.CharField(max_length=64)
    items_count = models.PositiveIntegerField()
    licensable_count = models.PositiveIntegerField()
    licensed_count = models.PositiveIntegerField()
    reserved_count = models.PositiveIntegerField()
    unknown_count = models.PositiveIntegerField()
    quote_amount = models.BigIntegerField(help_text="Minor units, due at purchase.")
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    quote_works = models.PositiveIntegerField()
    quote_offers = models.PositiveIntegerField()
    expires_at = models.DateTimeField(help_text="The quote holds until then.")
    payment_intent_id = models.CharField(max_length=255, blank=True)
    failure_code = models.CharField(max_length=64, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    purchased_at = models.DateTimeField(null=True, blank=True)
    certificate = models.TextField(blank=True, help_text="The signed certificate (compact JWS).")
    quote_digest = models.CharField(
        max_length=64,
        blank=True,
        help_text="SHA-256 of everything quoted: totals, every item, every version's terms.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["organization", "-id"], name="clearance_org_newest")]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    items_count=models.F("licensable_count")
                    + models.F("licensed_count")
                    + models.F("reserved_count")
                    + models.F("unknown_count")
                ),
                name="clearance_counts_add_up",
            ),
            models.CheckConstraint(
                condition=~Q(status="purchased") | Q(purchased_at__isnull=False),
                name="clearance_purchased_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} ({self.status})"


class ClearanceItem(models.Model):
    """One distinct identifier of a clearance, its status and what it was quoted at.

    `position` is the identifier's rank in the manifest's sorted order, so lists and
    the CSV come out in the order `manifest_sha256` hashes them. `amount` is the
    item's share of the quote: a flat offer's price on the first item of each work, a
    pool's price on the first item of each pooled collection, zero elsewhere, so the
    items' amounts add up to the quote.
    """

    class Status(models.TextChoices):
        LICENSABLE = "licensable", "Licensable"
        LICENSED = "licensed", "Already licensed"
        RESERVED = "reserved", "Reserved (drop it)"
        UNKNOWN = "unknown", "Unknown to the registry"

    class Reason(models.TextChoices):
        RESERVED_BY_CREATOR = "reserved_by_creator", "Reserved by its creator"
        NOT_OFFERED = "not_offered", "No active offer for this use in this currency"

    # The (clearance, position) constraint's index serves the clearance's lookups, by
    # status too (a filter on it: lists are pages in position order, and a status with
    # no items is known from the clearance's counts); an index on (clearance, status,
    # position) cost a sixth of making a clearance of 100,000 items (docs/benchmarks.md,
    # "Clearances", fourth pass). The work's index answers "is this work quoted?"; the
    # offer, version and license are never deleted (PROTECT elsewhere), so those
    # columns carry no index of their own.
    # No column here has a database foreign-key constraint: PostgreSQL checks each one
    # row by row at COMMIT, locking every referenced row, which was two thirds of
    # writing 100,000 items (docs/benchmarks.md, "Clearances"). Items are written only
    # by `clearance_create` (ids read in its own transaction) and the licenses only by
    # the purchase (licenses it grants in its own); Django's PROTECT and CASCADE, which
    # the ORM applies itself, still stop a deletion of what an item names and delete a
    # clearance's items with it.
    clearance = models.ForeignKey(
        Clearance,
        on_delete=models.CASCADE,
        related_name="items",
        db_index=False,
        db_constraint=False,
    )
    position = models.PositiveIntegerField()
    identifier = models.TextField(help_text="kind:value, in the registry's normal form.")
    status = models.CharField(max_length=10, choices=Status.choices)
    reason = models.CharField(max_length=20, choices=Reason.choices, blank=True)
    work = models.ForeignKey(
        Work,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    offer = models.ForeignKey(
        Offer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    offer_version = models.ForeignKey(
        OfferVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    amount = models.BigIntegerField(null=True, blank=True, help_text="Minor units.")
    license = models.ForeignKey(
        License,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
        help_text="The license that covers it: the one bought, or the one already held.",
    )

    class Meta:
        ordering = ["clearance_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["clearance", "position"], name="clearance_item_position_once"
            ),
            models.CheckConstraint(
                condition=~Q(status="licensable") | Q(offer_version__isnull=False),
                name="clearance_item_licensable_has_offer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.identifier}: {self.status}"
