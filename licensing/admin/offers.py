"""The creator portal's offers, with the terms of the current version beside them."""

from __future__ import annotations

import dataclasses
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from ledger.display import (
    AmountNotRepresentable,
    datetime_words,
    major_from_minor,
    minor_decimal_from_major,
    minor_from_major,
    money_from_minor,
)
from licensing.admin.scoping import (
    CreatorScopedAdmin,
    instance_adopt,
    licensing_error_to_form,
    offer_label,
    request_creator,
)
from licensing.currencies import CURRENCY_CHOICES
from licensing.errors import LicensingError
from licensing.models import (
    Collection,
    Creator,
    Offer,
    OfferVersion,
    Work,
)
from licensing.selectors.clearances import offer_is_quoted
from licensing.services.offers import (
    OFFER_TERM_FIELDS,
    OfferTerms,
    offer_create,
    offer_delete,
    offer_status_check,
    offer_terms_check,
    offer_update,
)
from licensing.services.validation import TERM_DAYS_MAX

_MONEY_FIELDS = ("amount", "unit_amount_decimal", "minimum_amount")


class OfferAdminForm(forms.ModelForm):
    """The offer and, beside it, the terms of its current version."""

    pricing = forms.ChoiceField(choices=OfferVersion.Pricing.choices)
    currency = forms.ChoiceField(choices=CURRENCY_CHOICES, initial="eur")
    # Prices are typed and shown in major units with the currency's own decimals
    # ("12.50" pounds); the form turns them into the minor units the API and the books
    # keep, refusing digits the currency cannot hold (`ledger.display.minor_from_major`).
    amount = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=20,
        decimal_places=3,
        label="Price",
        help_text="Flat and pool prices, as you would write them: 12.50.",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "12.50"}),
    )
    unit_amount_decimal = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=28,
        decimal_places=15,
        label="Unit price",
        help_text="Per-unit price in the currency, fractions of a cent allowed: 0.000003.",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "0.000003"}),
    )
    unit = forms.ChoiceField(choices=[("", "—"), *OfferVersion.Unit.choices], required=False)
    minimum_amount = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=20,
        decimal_places=3,
        label="Minimum",
        help_text="Per-unit offers: the least billed per period, as you would write it.",
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    term_days = forms.IntegerField(required=False, min_value=1, max_value=TERM_DAYS_MAX)
    attribution_required = forms.BooleanField(required=False)
    commercial = forms.BooleanField(required=False, initial=True)

    _TARGET_ALIASES = {"work": "work", "collection": "collection"}

    class Meta:
        model = Offer
        fields = ["creator", "work", "collection", "use", "status"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        version = self.instance.current_version if self.instance.pk else None
        if version is not None:
            for name in OFFER_TERM_FIELDS:
                self.initial[name] = getattr(version, name)
            for name in _MONEY_FIELDS:
                if self.initial[name] is not None:
                    self.initial[name] = major_from_minor(self.initial[name], version.currency)
            for name in ("work", "collection", "use"):
                if name in self.fields:
                    field = self.fields[name]
                    field.disabled = True
                    # No "add/change/delete related" buttons beside a field that is fixed.
                    for ability in ("add", "change", "delete", "view"):
                        setattr(field.widget, f"can_{ability}_related", False)

    def terms(self) -> OfferTerms:
        data = self.cleaned_data
        minor = self._minor_amounts
        return OfferTerms(
            pricing=data.get("pricing", ""),
            currency=data.get("currency", ""),
            amount=minor.get("amount"),
            unit_amount_decimal=minor.get("unit_amount_decimal"),
            unit=data.get("unit") or None,
            minimum_amount=minor.get("minimum_amount"),
            term_days=data.get("term_days"),
            attribution_required=bool(data.get("attribution_required")),
            commercial=bool(data.get("commercial")),
        )

    def _minor_amounts_clean(self, data: dict[str, Any]) -> None:
        """Turn each typed major-unit amount into minor units, or a field error."""
        self._minor_amounts: dict[str, Any] = {}
        currency = data.get("currency")
        for name in _MONEY_FIELDS:
            value = data.get(name)
            if value is None or not currency:
                continue
            convert = (
                minor_decimal_from_major if name == "unit_amount_decimal" else minor_from_major
            )
            try:
                self._minor_amounts[name] = convert(value, currency)
            except AmountNotRepresentable as error:
                self.add_error(name, str(error))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        self._minor_amounts_clean(data)
        if self.errors:
            return data
        work, collection = data.get("work"), data.get("collection")
        try:
            offer_terms_check(self.terms(), for_collection=collection is not None)
            if self.instance.pk is None:
                if work is not None and work.reserved:
                    self.add_error(
                        "work", "This work is reserved from AI use; it cannot be offered."
                    )
                if data.get("status") == Offer.Status.WITHDRAWN:
                    self.add_error("status", "A new offer is either draft or active.")
            else:
                offer_status_check(offer=self.instance, status=data.get("status"))
        except LicensingError as error:
            licensing_error_to_form(self, error, self._TARGET_ALIASES)
        return data


class OfferVersionInline(admin.TabularInline):
    """Every version of the offer, exactly as it was; versions are never edited here."""

    model = OfferVersion
    extra = 0
    can_delete = False
    ordering = ["-version"]
    fields = readonly_fields = [
        "version",
        "pricing",
        "price",
        "unit_price",
        "minimum",
        "term_days",
        "attribution_required",
        "commercial",
        "licensed_on",
        "created_on",
    ]
    verbose_name_plural = "Versions (a licensed version is frozen; a change makes the next one)"

    @admin.display(description="Price")
    def price(self, version: OfferVersion) -> str:
        return (
            money_from_minor(version.amount, version.currency)
            if version.amount is not None
            else "—"
        )

    @admin.display(description="Unit price")
    def unit_price(self, version: OfferVersion) -> str:
        if version.unit_amount_decimal is None:
            return "—"
        return (
            f"{money_from_minor(version.unit_amount_decimal, version.currency)} per {version.unit}"
        )

    @admin.display(description="Minimum")
    def minimum(self, version: OfferVersion) -> str:
        if version.minimum_amount is None:
            return "—"
        return money_from_minor(version.minimum_amount, version.currency)

    @admin.display(description="Licensed")
    def licensed_on(self, version: OfferVersion) -> str:
        return datetime_words(version.licensed_at) if version.licensed_at else "not yet"

    @admin.display(description="Created")
    def created_on(self, version: OfferVersion) -> str:
        return datetime_words(version.created_at)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Offer)
class OfferAdmin(CreatorScopedAdmin):
    form = OfferAdminForm
    inlines = [OfferVersionInline]
    list_display = ["public_id", "target", "use", "status", "terms_summary", "updated_at"]
    list_filter = ["status", "use"]
    search_fields = ["public_id", "work__title", "collection__title"]
    readonly_fields = ["public_id", "created_at", "updated_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .select_related("work", "collection", "current_version", "creator")
        )

    def get_fields(self, request: HttpRequest, obj: Offer | None = None) -> list[str]:
        fields = ["public_id", "work", "collection", "use", "status", *OFFER_TERM_FIELDS]
        if request_creator(request) is None and obj is None:
            fields.insert(1, "creator")
        return fields

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        creator = request_creator(request)
        if creator is not None:
            # A creator paid in pounds prices in pounds unless they choose otherwise.
            initial.setdefault("currency", creator.payout_currency)
        return initial

    @admin.display(description="For")
    def target(self, offer: Offer) -> str:
        return str(offer.work or offer.collection)

    @admin.display(description="Current terms")
    def terms_summary(self, offer: Offer) -> str:
        return offer_label(offer)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        creator = request_creator(request)
        if creator is not None:
            if db_field.name == "creator":
                kwargs["queryset"] = Creator.objects.filter(pk=creator.pk)
            elif db_field.name == "work":
                kwargs["queryset"] = Work.objects.filter(creator=creator, reserved=False)
            elif db_field.name == "collection":
                kwargs["queryset"] = Collection.objects.filter(creator=creator)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request: HttpRequest, obj: Offer | None = None) -> bool:
        if (
            obj is not None
            and OfferVersion.objects.filter(offer=obj, licensed_at__isnull=False).exists()
        ) or (obj is not None and offer_is_quoted(offer=obj)):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Offer, form: Any, change: bool) -> None:
        terms = form.terms()
        if change:
            offer_update(
                offer=obj, terms=dataclasses.asdict(terms), status=form.cleaned_data["status"]
            )
            obj.refresh_from_db()
            return
        creator = request_creator(request) or form.cleaned_data["creator"]
        offer = offer_create(
            creator=creator,
            work=form.cleaned_data.get("work"),
            collection=form.cleaned_data.get("collection"),
            use=form.cleaned_data["use"],
            status=form.cleaned_data["status"],
            terms=terms,
        )
        instance_adopt(obj, offer)

    def save_related(self, request: HttpRequest, form: Any, formsets: list, change: bool) -> None:
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def delete_model(self, request: HttpRequest, obj: Offer) -> None:
        offer_delete(offer=obj)
