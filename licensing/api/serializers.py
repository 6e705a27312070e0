"""Input and output shapes of the catalogue API (API.md's `work`, `offer`, `collection`).

Output serializers render from rows the selectors already loaded with their related
rows, so rendering a list never queries per item. Input serializers check types,
ranges and formats (a 400 naming the field); the rules that need the database or
span fields are the services' (a 422 or 409, also naming the field).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from licensing.currencies import currency_is_supported
from licensing.identifiers import URL_LENGTH_MAX, identifier_normalize
from licensing.models import AMOUNT_MAX, BASIS_POINTS_TOTAL, Offer, OfferVersion, Use, Work
from licensing.selectors.works import work_offers_active

# The API speaks Stripe's minor units (cents, pence; yen have none): integers, never
# decimals of the major unit. The portal shows the same amounts as money (£12.50).
MINOR_UNIT_HELP = "in the currency's minor unit (1250 is €12.50 in EUR; JPY has no minor unit)."
AMOUNT_HELP = "Flat and pool price, " + MINOR_UNIT_HELP
MINIMUM_AMOUNT_HELP = "Per-unit offers: the least billed per period, " + MINOR_UNIT_HELP
UNIT_AMOUNT_HELP = (
    "Per-unit price in the currency's minor unit, as a decimal string that may be a fraction "
    '(EUR "0.0003" is €0.000003 per unit).'
)


def decimal_string(value: Decimal | None) -> str | None:
    """Write a decimal without exponent or trailing zeros ("0.042", "5")."""
    if value is None:
        return None
    text = format(Decimal(value).normalize(), "f")
    return text


# --- Output ---------------------------------------------------------------------------


class CreatorRefSerializer(serializers.Serializer):
    id = serializers.CharField(read_only=True)
    display_name = serializers.CharField(read_only=True)

    def to_representation(self, creator: Any) -> dict[str, Any]:
        return {"id": creator.public_id, "display_name": creator.display_name}


class IdentifiersSerializer(serializers.Serializer):
    sha256 = serializers.CharField(allow_null=True, read_only=True)
    isrc = serializers.CharField(allow_null=True, read_only=True)
    isbn = serializers.CharField(allow_null=True, read_only=True)
    doi = serializers.CharField(allow_null=True, read_only=True)
    url = serializers.CharField(allow_null=True, read_only=True)


class OfferSerializer(serializers.Serializer):
    """An offer at one version: the current one, or `offer.shown_version` when set."""

    id = serializers.CharField(read_only=True)
    object = serializers.CharField(read_only=True, help_text='Always "offer".')
    version = serializers.IntegerField(read_only=True)
    work = serializers.CharField(allow_null=True, read_only=True)
    collection = serializers.CharField(allow_null=True, read_only=True)
    use = serializers.ChoiceField(choices=Use.choices, read_only=True)
    pricing = serializers.ChoiceField(choices=OfferVersion.Pricing.choices, read_only=True)
    currency = serializers.CharField(read_only=True)
    amount = serializers.IntegerField(allow_null=True, read_only=True, help_text=AMOUNT_HELP)
    unit_amount_decimal = serializers.CharField(
        allow_null=True, read_only=True, help_text=UNIT_AMOUNT_HELP
    )
    unit = serializers.ChoiceField(
        choices=OfferVersion.Unit.choices,
        allow_null=True,
        read_only=True,
        help_text="Per-unit offers: what is priced. Pool offers: what usage is declared in"
        " (default item). Null for flat offers.",
    )
    minimum_amount = serializers.IntegerField(
        allow_null=True, read_only=True, help_text=MINIMUM_AMOUNT_HELP
    )
    term_days = serializers.IntegerField(allow_null=True, read_only=True)
    attribution_required = serializers.BooleanField(read_only=True)
    commercial = serializers.BooleanField(read_only=True)
    status = serializers.ChoiceField(choices=Offer.Status.choices, read_only=True)
    current = serializers.BooleanField(
        read_only=True, help_text="Whether new licenses are bought under this version."
    )
    licensed = serializers.BooleanField(
        read_only=True, help_text="Whether licenses were bought under this version (frozen)."
    )
    created_at = serializers.DateTimeField(
        read_only=True, help_text="When this version was created."
    )

    def to_representation(self, offer: Offer) -> dict[str, Any]:
        version = getattr(offer, "shown_version", None) or offer.current_version
        assert version is not None, "an offer always has a current version"
        return {
            "id": offer.public_id,
            "object": "offer",
            "version": version.version,
            "work": offer.work.public_id if offer.work_id else None,
            "collection": offer.collection.public_id if offer.collection_id else None,
            "use": offer.use,
            "pricing": version.pricing,
            "currency": version.currency,
            "amount": version.amount,
            "unit_amount_decimal": decimal_string(version.unit_amount_decimal),
            # Pool versions saved before pools had a unit were declared in items.
            "unit": version.unit
            or (OfferVersion.Unit.ITEM if version.pricing == OfferVersion.Pricing.POOL else None),
            "minimum_amount": version.minimum_amount,
            "term_days": version.term_days,
            "attribution_required": version.attribution_required,
            "commercial": version.commercial,
            "status": offer.status,
            "current": version.pk == offer.current_version_id,
            "licensed": version.licensed_at is not None,
            "created_at": serializers.DateTimeField().to_representation(version.created_at),
        }


def offer_render(offer: Offer, version: OfferVersion | None = None) -> dict[str, Any]:
    if version is not None:
        offer.shown_version = version
    return OfferSerializer().to_representation(offer)


class WorkSerializer(serializers.Serializer):
    id = serializers.CharField(read_only=True)
    object = serializers.CharField(read_only=True, help_text='Always "work".')
    title = serializers.CharField(read_only=True)
    kind = serializers.ChoiceField(choices=Work.Kind.choices, read_only=True)
    creator = CreatorRefSerializer(read_only=True)
    identifiers = IdentifiersSerializer(read_only=True)
    reserved = serializers.BooleanField(read_only=True)
    offers = OfferSerializer(many=True, read_only=True, help_text="Active offers only.")
    created_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, work: Work) -> dict[str, Any]:
        return {
            "id": work.public_id,
            "object": "work",
            "title": work.title,
            "kind": work.kind,
            "creator": CreatorRefSerializer().to_representation(work.creator),
            "identifiers": work.identifiers,
            "reserved": work.reserved,
            "offers": [offer_render(offer) for offer in work_offers_active(work)],
            "created_at": serializers.DateTimeField().to_representation(work.created_at),
        }


class ShareSerializer(serializers.Serializer):
    creator = CreatorRefSerializer(read_only=True)
    basis_points = serializers.IntegerField(read_only=True)


class MyWorkSerializer(WorkSerializer):
    """A creator's own work: the public fields, its co-owners and when it last changed."""

    shares = ShareSerializer(many=True, read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, work: Work) -> dict[str, Any]:
        body = super().to_representation(work)
        body["shares"] = [
            {
                "creator": CreatorRefSerializer().to_representation(share.creator),
                "basis_points": share.basis_points,
            }
            for share in work.shares.all()
        ]
        body["updated_at"] = serializers.DateTimeField().to_representation(work.updated_at)
        return body


class CollectionSerializer(serializers.Serializer):
    id = serializers.CharField(read_only=True)
    object = serializers.CharField(read_only=True, help_text='Always "collection".')
    title = serializers.CharField(read_only=True)
    works = serializers.ListField(child=serializers.CharField(), read_only=True)
    offers = OfferSerializer(many=True, read_only=True, help_text="Active offers only.")
    created_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, collection: Any) -> dict[str, Any]:
        return {
            "id": collection.public_id,
            "object": "collection",
            "title": collection.title,
            "works": [work.public_id for work in collection.works.all()],
            "offers": [offer_render(offer) for offer in collection.active_offers],
            "created_at": serializers.DateTimeField().to_representation(collection.created_at),
        }


class RegistryEntrySerializer(serializers.Serializer):
    object = serializers.CharField(read_only=True, help_text='Always "registry_entry".')
    status = serializers.CharField(read_only=True, help_text="licensable, reserved or unknown.")
    work = WorkSerializer(allow_null=True, read_only=True)
    offers = OfferSerializer(many=True, read_only=True)
    license_url = serializers.CharField(allow_null=True, read_only=True)


# --- Input ----------------------------------------------------------------------------


class StrictCharField(serializers.CharField):
    """A string, and only a string: DRF's CharField would turn 0 or 1.5 into "0", "1.5"."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def _identifier_field_validator(kind: str):
    def validate(value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            return identifier_normalize(kind, value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages[0], code="invalid") from None

    return validate


class IdentifiersInput(serializers.Serializer):
    """Identifiers of a work; a key left out is unchanged, null or "" clears it."""

    sha256 = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=80)
    isrc = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=30)
    isbn = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=30)
    doi = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=600)
    url = StrictCharField(
        required=False, allow_null=True, allow_blank=True, max_length=URL_LENGTH_MAX
    )

    def validate_sha256(self, value: str | None) -> str | None:
        return _identifier_field_validator("sha256")(value)

    def validate_isrc(self, value: str | None) -> str | None:
        return _identifier_field_validator("isrc")(value)

    def validate_isbn(self, value: str | None) -> str | None:
        return _identifier_field_validator("isbn")(value)

    def validate_doi(self, value: str | None) -> str | None:
        return _identifier_field_validator("doi")(value)

    def validate_url(self, value: str | None) -> str | None:
        return _identifier_field_validator("url")(value)


class ShareInput(serializers.Serializer):
    creator = StrictCharField(max_length=32, help_text="A creator id (cre_…).")
    basis_points = serializers.IntegerField(min_value=1, max_value=BASIS_POINTS_TOTAL)


class WorkCreateInput(serializers.Serializer):
    title = StrictCharField(max_length=300)
    kind = serializers.ChoiceField(choices=Work.Kind.choices)
    identifiers = IdentifiersInput(required=False)
    reserved = serializers.BooleanField(default=False)
    shares = serializers.ListField(
        child=ShareInput(),
        required=False,
        min_length=1,
        max_length=100,
        help_text="Co-owners in basis points, totalling 10,000. Default: the caller owns it all.",
    )


class WorkUpdateInput(serializers.Serializer):
    title = StrictCharField(max_length=300, required=False)
    kind = serializers.ChoiceField(choices=Work.Kind.choices, required=False)
    identifiers = IdentifiersInput(required=False)
    reserved = serializers.BooleanField(required=False)
    shares = serializers.ListField(child=ShareInput(), required=False, min_length=1, max_length=100)


class _OfferTermsInput(serializers.Serializer):
    pricing = serializers.ChoiceField(choices=OfferVersion.Pricing.choices)
    currency = StrictCharField(max_length=3, help_text="ISO 4217, lower case.")
    amount = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=AMOUNT_MAX, help_text=AMOUNT_HELP
    )
    unit_amount_decimal = serializers.DecimalField(
        max_digits=24,
        decimal_places=12,
        min_value=Decimal(0),
        required=False,
        allow_null=True,
        help_text=UNIT_AMOUNT_HELP,
    )
    unit = serializers.ChoiceField(
        choices=OfferVersion.Unit.choices,
        required=False,
        allow_null=True,
        help_text="Per-unit offers: required. Pool offers: the unit usage is declared in"
        " (default item). Flat offers: none.",
    )
    minimum_amount = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=AMOUNT_MAX,
        help_text=MINIMUM_AMOUNT_HELP,
    )
    term_days = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=36_500
    )
    attribution_required = serializers.BooleanField(required=False)
    commercial = serializers.BooleanField(required=False)

    def validate_currency(self, value: str) -> str:
        if not currency_is_supported(value.lower()):
            raise serializers.ValidationError(
                f"{value!r} is not a supported ISO 4217 currency.", code="currency_unsupported"
            )
        return value.lower()


class OfferCreateInput(_OfferTermsInput):
    work = StrictCharField(required=False, allow_null=True, max_length=32)
    collection = StrictCharField(required=False, allow_null=True, max_length=32)
    use = serializers.ChoiceField(choices=Use.choices)
    status = serializers.ChoiceField(
        choices=Offer.Status.choices,
        default=Offer.Status.DRAFT,
        help_text="draft (the default) or active.",
    )

    def validate_status(self, value: str) -> str:
        if value == Offer.Status.WITHDRAWN:
            raise serializers.ValidationError("A new offer is either draft or active.")
        return value


class OfferUpdateInput(_OfferTermsInput):
    """Terms to change (any subset) and/or a new status; target and use are fixed."""

    _IMMUTABLE = ("work", "collection", "use")

    status = serializers.ChoiceField(choices=Offer.Status.choices, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        initial = self.initial_data if isinstance(self.initial_data, dict) else {}
        fixed = [name for name in self._IMMUTABLE if name in initial]
        if fixed:
            raise serializers.ValidationError(
                {
                    name: "An offer's target and use cannot change; make a new offer."
                    for name in fixed
                }
            )
        return attrs


class CollectionCreateInput(serializers.Serializer):
    title = StrictCharField(max_length=300)
    works = serializers.ListField(
        child=StrictCharField(max_length=32), required=False, max_length=10_000
    )


class CollectionUpdateInput(serializers.Serializer):
    title = StrictCharField(max_length=300, required=False)
    works = serializers.ListField(
        child=StrictCharField(max_length=32), required=False, max_length=10_000
    )
