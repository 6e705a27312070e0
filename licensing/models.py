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

from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from config.api.ids import public_id
from licensing.currencies import CURRENCY_CHOICES
from licensing.identifiers import URL_LENGTH_MAX, CanonicalIdentifierValidator

BASIS_POINTS_TOTAL = 10_000
# "Prices of more than 12 digits" are refused: amounts stay below a trillion minor units.
AMOUNT_MAX = 999_999_999_999
PUBLIC_ID_LENGTH = 32


def history_user(request: Any = None, **kwargs: Any) -> Any:
    """Name the Django user behind a change, for the audit history.

    An API request is authenticated as a `Principal` (see `api_keys`), which stands
    for a user but is not one; the history records that user. Changes made outside a
    request (commands, demo data) have no user.
    """
    if request is None:
        return None
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    # A Principal carries the user it acts for; a session's user is the user itself.
    return user if hasattr(user, "_meta") else getattr(user, "user", None)


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


def api_key_public_id() -> str:
    return public_id("key")


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


# -- licensees and licenses (the licensee API) -------------------------------------------


def organization_public_id() -> str:
    return public_id("org")


def purchase_public_id() -> str:
    return public_id("pur")


def license_public_id() -> str:
    return public_id("lic")


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
