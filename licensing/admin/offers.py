"""The creator portal's offers, with the terms of the current version beside them."""

from __future__ import annotations

import dataclasses
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from licensing import services
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
    AMOUNT_MAX,
    Collection,
    Creator,
    Offer,
    OfferVersion,
    Work,
)


class OfferAdminForm(forms.ModelForm):
    """The offer and, beside it, the terms of its current version."""

    pricing = forms.ChoiceField(choices=OfferVersion.Pricing.choices)
    currency = forms.ChoiceField(choices=CURRENCY_CHOICES, initial="eur")
    amount = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=AMOUNT_MAX,
        help_text="Flat and pool prices, in the currency's minor unit (1250 = 12.50).",
    )
    unit_amount_decimal = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=24,
        decimal_places=12,
        label="Unit price",
        help_text="Per-unit price in the minor unit; may be a fraction (0.042).",
    )
    unit = forms.ChoiceField(choices=[("", "—"), *OfferVersion.Unit.choices], required=False)
    minimum_amount = forms.IntegerField(required=False, min_value=0, max_value=AMOUNT_MAX)
    term_days = forms.IntegerField(required=False, min_value=1, max_value=services.TERM_DAYS_MAX)
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
            for name in services.OFFER_TERM_FIELDS:
                self.initial[name] = getattr(version, name)
            for name in ("work", "collection", "use"):
                if name in self.fields:
                    field = self.fields[name]
                    field.disabled = True
                    # No "add/change/delete related" buttons beside a field that is fixed.
                    for ability in ("add", "change", "delete", "view"):
                        setattr(field.widget, f"can_{ability}_related", False)

    def terms(self) -> services.OfferTerms:
        data = self.cleaned_data
        return services.OfferTerms(
            pricing=data.get("pricing", ""),
            currency=data.get("currency", ""),
            amount=data.get("amount"),
            unit_amount_decimal=data.get("unit_amount_decimal"),
            unit=data.get("unit") or None,
            minimum_amount=data.get("minimum_amount"),
            term_days=data.get("term_days"),
            attribution_required=bool(data.get("attribution_required")),
            commercial=bool(data.get("commercial")),
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        work, collection = data.get("work"), data.get("collection")
        try:
            services.offer_terms_check(self.terms(), for_collection=collection is not None)
            if self.instance.pk is None:
                if work is not None and work.reserved:
                    self.add_error(
                        "work", "This work is reserved from AI use; it cannot be offered."
                    )
                if data.get("status") == Offer.Status.WITHDRAWN:
                    self.add_error("status", "A new offer is either draft or active.")
            else:
                services.offer_status_check(offer=self.instance, status=data.get("status"))
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
        "currency",
        "amount",
        "unit_amount_decimal",
        "unit",
        "minimum_amount",
        "term_days",
        "attribution_required",
        "commercial",
        "licensed_at",
        "created_at",
    ]
    verbose_name_plural = "Versions (a licensed version is frozen; a change makes the next one)"

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
        fields = ["public_id", "work", "collection", "use", "status", *services.OFFER_TERM_FIELDS]
        if request_creator(request) is None and obj is None:
            fields.insert(1, "creator")
        return fields

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
        ):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Offer, form: Any, change: bool) -> None:
        terms = form.terms()
        if change:
            services.offer_update(
                offer=obj, terms=dataclasses.asdict(terms), status=form.cleaned_data["status"]
            )
            obj.refresh_from_db()
            return
        creator = request_creator(request) or form.cleaned_data["creator"]
        offer = services.offer_create(
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
        services.offer_delete(offer=obj)
