"""The catalogue: creators, their works and co-owners, collections, versioned offers, keys.

Design in brief:

- Every row the API shows carries an opaque `public_id` (`wrk_…`, `off_…`); integer
  primary keys never leave the database.
- A work's co-owners are `RightsShare` rows in basis points that always total 10,000.
  Services check it before writing; on PostgreSQL a deferred constraint trigger checks
  it again at commit, so no code path (nor a hand-written SQL) can leave a work
  half-owned.
- An offer has a stable id and a sequence of `OfferVersion`s holding its terms. The
  offer points at its current version. Once a version has been licensed it is never
  changed again: a change of price or terms creates the next version, and a license
  keeps pointing at the version it was bought under. `licensed_at` is what the
  purchase flow sets (`services.offer_version_mark_licensed`).
- A reserved work (opt-out of all AI use) has no active offers, and every public
  signal (registry, RSL, TDMRep, Content-Usage) says so.
- `ApiKey` stores only the SHA-256 of a key and a short visible prefix. A key belongs
  to one creator, one finance user, or (added by the licensee issue) one organisation.
- Works, shares, collections, offers and versions keep an audit history
  (django-simple-history: who, when, before and after).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from config.api.ids import public_id
from licensing.currencies import CURRENCY_CHOICES
from licensing.identifiers import URL_LENGTH_MAX, CanonicalIdentifierValidator
from licensing.models.base import AMOUNT_MAX, BASIS_POINTS_TOTAL, PUBLIC_ID_LENGTH, history_user


def creator_public_id() -> str:
    return public_id("cre")


def work_public_id() -> str:
    return public_id("wrk")


def collection_public_id() -> str:
    return public_id("col")


def offer_public_id() -> str:
    return public_id("off")


def offer_version_public_id() -> str:
    return public_id("ofv")


class Creator(models.Model):
    """A person or studio who registers works and is paid for their use."""

    class OnboardingState(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        PENDING = "pending", "Pending"
        COMPLETE = "complete", "Complete"
        RESTRICTED = "restricted", "Restricted"

    public_id = models.CharField(
        max_length=PUBLIC_ID_LENGTH, unique=True, editable=False, default=creator_public_id
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="creator"
    )
    display_name = models.CharField(max_length=200)
    country = models.CharField(
        max_length=2, blank=True, help_text="ISO 3166-1 alpha-2 country code, e.g. FR."
    )
    payout_currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="eur")
    stripe_account_id = models.CharField(max_length=255, blank=True)
    onboarding_state = models.CharField(
        max_length=20, choices=OnboardingState.choices, default=OnboardingState.NOT_STARTED
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["display_name", "id"]

    def __str__(self) -> str:
        return self.display_name


class Work(models.Model):
    """A creative work that may be licensed for AI use, or reserved from it."""

    class Kind(models.TextChoices):
        TEXT = "text", "Text"
        IMAGE = "image", "Image"
        AUDIO = "audio", "Audio"
        VIDEO = "video", "Video"
        CODE = "code", "Code"
        DATASET = "dataset", "Dataset"

    public_id = models.CharField(
        max_length=PUBLIC_ID_LENGTH, unique=True, editable=False, default=work_public_id
    )
    creator = models.ForeignKey(
        Creator,
        on_delete=models.PROTECT,
        related_name="works",
        help_text="The creator who registered the work and manages it.",
    )
    title = models.CharField(max_length=300)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # Identifiers: stored in canonical form, NULL when absent so "unique where set" holds.
    sha256 = models.CharField(
        "SHA-256",
        max_length=64,
        null=True,
        blank=True,
        unique=True,
        validators=[CanonicalIdentifierValidator("sha256")],
    )
    isrc = models.CharField(
        "ISRC",
        max_length=12,
        null=True,
        blank=True,
        unique=True,
        validators=[CanonicalIdentifierValidator("isrc")],
    )
    isbn = models.CharField(
        "ISBN",
        max_length=13,
        null=True,
        blank=True,
        unique=True,
        validators=[CanonicalIdentifierValidator("isbn")],
    )
    doi = models.CharField(
        "DOI",
        max_length=500,
        null=True,
        blank=True,
        unique=True,
        validators=[CanonicalIdentifierValidator("doi")],
    )
    url = models.CharField(
        "URL",
        max_length=URL_LENGTH_MAX,
        null=True,
        blank=True,
        unique=True,
        validators=[CanonicalIdentifierValidator("url")],
    )
    reserved = models.BooleanField(
        default=False, help_text="Reserved from all AI use (opt-out): no offers, no licenses."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["creator", "-id"], name="work_creator_newest")]

    def __str__(self) -> str:
        return self.title

    @property
    def identifiers(self) -> dict[str, str | None]:
        return {
            "sha256": self.sha256,
            "isrc": self.isrc,
            "isbn": self.isbn,
            "doi": self.doi,
            "url": self.url,
        }


class RightsShare(models.Model):
    """One co-owner's share of a work, in basis points; a work's shares total 10,000."""

    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="shares")
    creator = models.ForeignKey(Creator, on_delete=models.PROTECT, related_name="rights_shares")
    basis_points = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(BASIS_POINTS_TOTAL)],
        help_text="Share of the work's earnings, in hundredths of a percent (10,000 = 100%).",
    )

    history = HistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["work_id", "-basis_points", "id"]
        constraints = [
            models.UniqueConstraint(fields=["work", "creator"], name="rights_share_once_per_owner"),
            models.CheckConstraint(
                condition=Q(basis_points__gte=1) & Q(basis_points__lte=BASIS_POINTS_TOTAL),
                name="rights_share_basis_points_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.creator} {self.basis_points / 100:.2f}%"


class Collection(models.Model):
    """Works grouped by their creator for a blanket (pool) offer."""

    public_id = models.CharField(
        max_length=PUBLIC_ID_LENGTH, unique=True, editable=False, default=collection_public_id
    )
    creator = models.ForeignKey(Creator, on_delete=models.PROTECT, related_name="collections")
    title = models.CharField(max_length=300)
    works = models.ManyToManyField(Work, related_name="collections", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(get_user=history_user, m2m_fields=[works])

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.title


class Use(models.TextChoices):
    """What a license permits (API.md "Uses")."""

    AI_TRAIN = "ai-train", "AI training (pre-training)"
    AI_FINETUNE = "ai-finetune", "AI fine-tuning"
    AI_INPUT = "ai-input", "AI input (retrieval, grounding, RAG)"
    AI_EVAL = "ai-eval", "AI evaluation (benchmarks)"


class Offer(models.Model):
    """A standing offer to license one work or one collection for one use.

    The id is stable; the terms live in `OfferVersion`s and `current_version` names
    the one a new license would be bought under.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        WITHDRAWN = "withdrawn", "Withdrawn"

    public_id = models.CharField(
        max_length=PUBLIC_ID_LENGTH, unique=True, editable=False, default=offer_public_id
    )
    creator = models.ForeignKey(Creator, on_delete=models.PROTECT, related_name="offers")
    work = models.ForeignKey(
        Work, on_delete=models.PROTECT, null=True, blank=True, related_name="offers"
    )
    collection = models.ForeignKey(
        Collection, on_delete=models.PROTECT, null=True, blank=True, related_name="offers"
    )
    use = models.CharField(max_length=20, choices=Use.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    current_version = models.ForeignKey(
        "OfferVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(work__isnull=False) & Q(collection__isnull=True))
                | (Q(work__isnull=True) & Q(collection__isnull=False)),
                name="offer_for_work_or_collection",
            )
        ]
        indexes = [models.Index(fields=["status", "use"], name="offer_status_use")]

    def __str__(self) -> str:
        target = self.work or self.collection
        return f"{self.get_use_display()} of {target}"


class OfferVersion(models.Model):
    """The terms of an offer as they were at one version; frozen once licensed."""

    class Pricing(models.TextChoices):
        FLAT = "flat", "Flat (per work, per term)"
        PER_UNIT = "per_unit", "Per unit of declared usage"
        POOL = "pool", "Pool (blanket license to a collection)"

    class Unit(models.TextChoices):
        TOKEN = "token", "Token"
        ITEM = "item", "Item"
        RETRIEVAL = "retrieval", "Retrieval"
        SECOND = "second", "Second"
        OUTPUT = "output", "Output"

    public_id = models.CharField(
        max_length=PUBLIC_ID_LENGTH,
        unique=True,
        editable=False,
        default=offer_version_public_id,
    )
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    pricing = models.CharField(max_length=10, choices=Pricing.choices)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    amount = models.BigIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(AMOUNT_MAX)],
        help_text="Flat and pool prices, in the currency's minor unit (1250 = 12.50).",
    )
    unit_amount_decimal = models.DecimalField(
        max_digits=24,
        decimal_places=12,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Per-unit price in the currency's minor unit; may be a fraction (0.042).",
    )
    unit = models.CharField(max_length=10, choices=Unit.choices, null=True, blank=True)
    minimum_amount = models.BigIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(AMOUNT_MAX)],
        help_text="Per-unit offers: the least billed per period, in minor units.",
    )
    term_days = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(36_500)]
    )
    attribution_required = models.BooleanField(default=False)
    commercial = models.BooleanField(default=True, help_text="Commercial use is permitted.")
    licensed_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the first license was bought under this version; frozen from then on.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["offer_id", "version"]
        constraints = [
            models.UniqueConstraint(fields=["offer", "version"], name="offer_version_once"),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0, amount__lte=AMOUNT_MAX),
                name="offer_version_amount_range",
            ),
            models.CheckConstraint(
                condition=Q(unit_amount_decimal__isnull=True) | Q(unit_amount_decimal__gte=0),
                name="offer_version_unit_amount_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(minimum_amount__isnull=True)
                | Q(minimum_amount__gte=0, minimum_amount__lte=AMOUNT_MAX),
                name="offer_version_minimum_amount_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.offer.public_id} v{self.version}"

    @property
    def is_licensed(self) -> bool:
        return self.licensed_at is not None
