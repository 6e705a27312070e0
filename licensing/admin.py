"""The creator portal: Django's admin, scoped so a creator sees and edits only their own rows.

A creator logs in as a staff user (not a superuser) whose group grants the catalogue's
model permissions; every admin below narrows its queryset to that creator's rows and
turns any other object id into a 404 (change, delete and history alike), so another
creator's work cannot be reached by URL, nor its existence guessed. Staff who are not
creators (superusers, finance) see everything their permissions allow.

Writes go through the services, never through `Model.save()`: the same rules hold in
the portal as in the API (identifiers normalized and unique, shares totalling 10,000,
offer terms fitting their pricing model, versioning once licensed), and the forms
show a broken rule as an error on the field. Reverting to an old version from the
history pages is disabled for the same reason.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import actions as admin_actions
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from import_export.admin import ImportMixin
from import_export.formats.base_formats import CSV
from simple_history.admin import SimpleHistoryAdmin

from licensing import selectors, services
from licensing.currencies import CURRENCY_CHOICES, major_amount_format
from licensing.errors import LicensingError
from licensing.identifiers import IDENTIFIER_KINDS, identifier_normalize
from licensing.models import (
    AMOUNT_MAX,
    ApiKey,
    Collection,
    Creator,
    Offer,
    OfferVersion,
    RightsShare,
    Work,
)
from licensing.resources import WorkResource


def request_creator(request: HttpRequest) -> Creator | None:
    """The creator a portal request is scoped to; None for superusers and other staff."""
    user = request.user
    if not user.is_authenticated or user.is_superuser:
        return None
    try:
        return user.creator
    except Creator.DoesNotExist:
        return None


def _adopt(target: Any, saved: Any) -> None:
    """Make the admin's unsaved instance the row a service saved (for redirects and logs)."""
    for field in saved._meta.concrete_fields:
        setattr(target, field.attname, getattr(saved, field.attname))
    target._state.adding = False


def _offer_label(offer: Offer) -> str:
    version = offer.current_version
    if version is None:
        return offer.use
    if version.pricing == OfferVersion.Pricing.PER_UNIT:
        price = (
            f"{major_amount_format(version.unit_amount_decimal, version.currency)}/{version.unit}"
        )
    else:
        price = major_amount_format(version.amount, version.currency)
    unit = ""
    if version.pricing == OfferVersion.Pricing.POOL:
        unit = f" · usage in {version.unit or OfferVersion.Unit.ITEM}s"
    return (
        f"{offer.use} · {version.pricing} {price} {version.currency.upper()}{unit}"
        f" · v{version.version} · {offer.status}"
    )


class CreatorScopedAdmin(SimpleHistoryAdmin):
    """An admin whose rows belong to a creator, reached through `creator_path`."""

    creator_path = "creator"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        creator = request_creator(request)
        if creator is not None:
            queryset = queryset.filter(**{self.creator_path: creator.pk})
        return queryset

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        # Django would redirect with "doesn't exist"; a 404 tells nothing either way.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("No such object.")
        return obj

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        # simple-history falls back to the unscoped history table; check the scope first.
        self.get_object(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> HttpResponse:
        self.get_object(request, object_id)
        if request.method != "GET":
            # Reverting would bypass the services' rules; history is for reading.
            return HttpResponseNotAllowed(["GET"])
        return super().history_form_view(request, object_id, version_id, extra_context)

    def revert_disabled(self, request: HttpRequest, obj: Any = None) -> bool:
        return True

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple:
        """List the rows to delete, and leave what goes with them, and whether, to the service.

        Django's own listing asks for delete permission on every related row, and a
        creator has none on the rows the portal keeps read-only (a work's co-owner
        shares), so the "delete selected" action answered 403; it also stops at the
        offers and versions that PROTECT their parent, which the service deletes first.
        `delete_model` is a service that takes those rows along and refuses a row that
        may not go (a licensed one); `objs` is already scoped to the creator.
        """
        assert type(self).delete_model is not admin.ModelAdmin.delete_model, (
            "an admin that deletes must delete through a service"
        )
        rows = list(objs)
        name = capfirst(self.opts.verbose_name)
        return (
            [f"{name}: {row}" for row in rows],
            {self.opts.verbose_name_plural: len(rows)},
            set(),
            [],
        )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._rows_delete(request, queryset)

    def _rows_delete(self, request: HttpRequest, queryset: QuerySet) -> int:
        """Delete row by row through `delete_model` (a service), reporting each refusal."""
        deleted = 0
        for obj in queryset[: services.COLLECTION_WORKS_MAX]:
            try:
                with transaction.atomic():  # the admin log names only rows that went
                    self.log_deletions(request, [obj])
                    self.delete_model(request, obj)
            except LicensingError as error:
                self.message_user(request, f"{obj}: {error.message}", messages.ERROR)
            else:
                deleted += 1
        return deleted

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            _, name, description = actions["delete_selected"]
            actions["delete_selected"] = (type(self)._delete_selected, name, description)
        return actions

    def _delete_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        """Django's "delete selected", counting only the rows the services deleted.

        Django's action reports every selected row as deleted; a refused one is not.
        """
        if not request.POST.get("post"):
            return admin_actions.delete_selected(self, request, queryset)  # the confirmation
        if not self.has_delete_permission(request):
            raise PermissionDenied
        deleted = self._rows_delete(request, queryset)
        if deleted:
            noun = self.opts.verbose_name if deleted == 1 else self.opts.verbose_name_plural
            self.message_user(request, f"Deleted {deleted} {noun}.", messages.SUCCESS)
        return None

    def get_list_filter(self, request: HttpRequest) -> Any:
        return self.list_filter


def _licensing_error_to_form(form: forms.BaseForm, error: LicensingError, aliases: dict) -> None:
    field = aliases.get(error.param, error.param)
    form.add_error(field if field in form.fields else None, error.message)


# --- Works and their co-owners --------------------------------------------------------


class WorkAdminForm(forms.ModelForm):
    class Meta:
        model = Work
        fields = ["creator", "title", "kind", *IDENTIFIER_KINDS, "reserved"]

    def _clean_identifier(self, kind: str) -> str | None:
        value = self.cleaned_data.get(kind)
        if value in (None, ""):
            return None
        return identifier_normalize(kind, value)

    def clean_sha256(self) -> str | None:
        return self._clean_identifier("sha256")

    def clean_isrc(self) -> str | None:
        return self._clean_identifier("isrc")

    def clean_isbn(self) -> str | None:
        return self._clean_identifier("isbn")

    def clean_doi(self) -> str | None:
        return self._clean_identifier("doi")

    def clean_url(self) -> str | None:
        return self._clean_identifier("url")


class RightsShareForm(forms.ModelForm):
    # Co-owners are named by creator id: a dropdown would list every creator's name.
    creator = forms.ModelChoiceField(
        queryset=Creator.objects.all(),
        to_field_name="public_id",
        widget=forms.TextInput(attrs={"placeholder": "cre_…"}),
        label="Co-owner (creator id)",
        error_messages={"invalid_choice": "No creator has this id."},
    )

    class Meta:
        model = RightsShare
        fields = ["creator", "basis_points"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["creator"] = self.instance.creator.public_id


class RightsShareFormSet(BaseInlineFormSet):
    """Check the whole set of shares (10,000 in total); the work admin saves them."""

    def share_specs(self) -> list[services.ShareSpec]:
        return [
            services.ShareSpec(
                creator=form.cleaned_data["creator"],
                basis_points=form.cleaned_data["basis_points"],
            )
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("creator")
        ]

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        specs = self.share_specs()
        if not specs and self.instance.pk is None:
            return  # a new work with no shares given belongs wholly to its creator
        try:
            services.rights_shares_check(specs)
        except LicensingError as error:
            raise ValidationError(error.message) from None


class RightsShareInline(admin.TabularInline):
    model = RightsShare
    form = RightsShareForm
    formset = RightsShareFormSet
    extra = 1
    readonly_fields = ["co_owner_name"]
    fields = ["creator", "co_owner_name", "basis_points"]
    verbose_name = "co-owner share"
    verbose_name_plural = "Co-owners (shares in basis points, totalling 10,000)"

    @admin.display(description="Name")
    def co_owner_name(self, share: RightsShare) -> str:
        return share.creator.display_name if share.pk else ""

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("creator")


IMPORT_FILES_SESSION_KEY = "licensing_work_import_files"


class WorkImportMixin(ImportMixin):
    resource_classes = [WorkResource]
    import_formats = [CSV]

    def has_import_permission(self, request: HttpRequest) -> bool:
        return self.has_add_permission(request)

    def get_import_resource_kwargs(self, request: HttpRequest, **kwargs: Any) -> dict:
        return {"creator": request_creator(request)}

    def get_import_data_kwargs(self, **kwargs: Any) -> dict:
        # The confirmed import is all or nothing, even if a row broke since the preview.
        return {**super().get_import_data_kwargs(**kwargs), "rollback_on_validation_errors": True}

    def import_action(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        """The preview; the temporary file it wrote is remembered in the user's session.

        The confirmation posts that file's name back, and django-import-export would
        open (then delete) whatever path it is given: only a name this session was
        issued is accepted (`process_import`).
        """
        response = super().import_action(request, **kwargs)
        confirm_form = (getattr(response, "context_data", None) or {}).get("confirm_form")
        name = confirm_form.initial.get("import_file_name") if confirm_form else None
        if name:
            issued = request.session.get(IMPORT_FILES_SESSION_KEY, [])
            request.session[IMPORT_FILES_SESSION_KEY] = [*issued, name][-10:]
        return response

    def process_import(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        if not self.has_import_permission(request):
            raise PermissionDenied
        name = request.POST.get("import_file_name", "")
        issued = request.session.get(IMPORT_FILES_SESSION_KEY, [])
        if name not in issued or not self._tmp_file_readable(name):
            self.message_user(
                request,
                "This import was not previewed here or has expired: upload the file again.",
                messages.ERROR,
            )
            return HttpResponseRedirect(reverse("admin:licensing_work_import"))
        response = super().process_import(request, **kwargs)
        request.session[IMPORT_FILES_SESSION_KEY] = [item for item in issued if item != name]
        return response

    def _tmp_file_readable(self, name: str) -> bool:
        storage = self.get_tmp_storage_class()(name=name, **self.get_tmp_storage_class_kwargs())
        try:
            return storage.read() is not None
        except OSError:  # removed since the preview (a second confirmation, a cleanup)
            return False


@admin.register(Work)
class WorkAdmin(WorkImportMixin, CreatorScopedAdmin):
    form = WorkAdminForm
    inlines = [RightsShareInline]
    list_display = ["title", "kind", "state", "offers_summary", "public_id", "created_at"]
    list_filter = ["kind", "reserved"]
    search_fields = ["title", "public_id", "sha256", "isrc", "isbn", "doi", "url"]
    readonly_fields = ["public_id", "created_at", "updated_at"]
    actions = ["reserve_works"]
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        offers = Offer.objects.select_related("current_version").order_by("id")
        collection_offers = offers.filter(status=Offer.Status.ACTIVE)
        collections = Collection.objects.prefetch_related(
            Prefetch("offers", queryset=collection_offers, to_attr="active_offers")
        )
        return (
            super()
            .get_queryset(request)
            .select_related("creator")
            .prefetch_related(
                Prefetch("offers", queryset=offers),
                Prefetch("collections", queryset=collections, to_attr="listed_collections"),
            )
        )

    @staticmethod
    def _collection_offers(work: Work) -> list[tuple[Collection, Offer]]:
        return [
            (collection, offer)
            for collection in getattr(work, "listed_collections", [])
            for offer in collection.active_offers
        ]

    def get_fields(self, request: HttpRequest, obj: Work | None = None) -> list[str]:
        fields = ["public_id", "title", "kind", *IDENTIFIER_KINDS, "reserved"]
        if request_creator(request) is None:
            fields.insert(1, "creator")
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Work | None = None) -> list[str]:
        readonly = list(self.readonly_fields)
        if obj is not None:
            readonly.append("creator")  # a work never changes hands; shares do
        return readonly

    @admin.display(description="State")
    def state(self, work: Work) -> str:
        if work.reserved:
            return "Reserved"
        live = [offer for offer in work.offers.all() if offer.status == Offer.Status.ACTIVE]
        return "Licensable" if live or self._collection_offers(work) else "Not offered"

    @admin.display(description="Offers")
    def offers_summary(self, work: Work) -> str:
        labels = [_offer_label(offer) for offer in work.offers.all()]
        if not work.reserved:
            labels += [
                f"via {collection.title}: {_offer_label(offer)}"
                for collection, offer in self._collection_offers(work)
            ]
        if not labels:
            return "—"
        return format_html_join(mark_safe("<br>"), "{}", ((label,) for label in labels))

    @admin.action(description="Reserve the selected works from all AI use", permissions=["change"])
    def reserve_works(self, request: HttpRequest, queryset: QuerySet) -> None:
        # Django offers the action only with the change permission; each row is checked
        # again (its scope included) in case a POST names rows the list did not show.
        works = list(queryset[: services.COLLECTION_WORKS_MAX])
        if not all(self.has_change_permission(request, work) for work in works):
            raise PermissionDenied
        for work in works:
            services.work_reserve(work=work)
        self.message_user(request, f"{len(works)} work(s) reserved; their offers are withdrawn.")

    def has_delete_permission(self, request: HttpRequest, obj: Work | None = None) -> bool:
        if (
            obj is not None
            and OfferVersion.objects.filter(offer__work=obj, licensed_at__isnull=False).exists()
        ):
            return False
        return super().has_delete_permission(request, obj)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        creator = request_creator(request)
        if db_field.name == "creator" and creator is not None:
            kwargs["queryset"] = Creator.objects.filter(pk=creator.pk)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Work, form: Any, change: bool) -> None:
        identifiers = {kind: form.cleaned_data.get(kind) for kind in IDENTIFIER_KINDS}
        if change:
            services.work_update(
                work=obj,
                title=obj.title,
                kind=obj.kind,
                identifiers=identifiers,
                reserved=obj.reserved,
            )
            return
        creator = request_creator(request) or form.cleaned_data["creator"]
        work = services.work_create(
            creator=creator,
            title=obj.title,
            kind=obj.kind,
            identifiers=identifiers,
            reserved=obj.reserved,
        )
        _adopt(obj, work)

    def save_related(self, request: HttpRequest, form: Any, formsets: list, change: bool) -> None:
        for formset in formsets:
            if isinstance(formset, RightsShareFormSet):
                specs = formset.share_specs()
                if specs:
                    services.rights_shares_set(work=form.instance, shares=specs)
            # The admin's change message reads these; the service did the saving.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def delete_model(self, request: HttpRequest, obj: Work) -> None:
        services.work_delete(work=obj)


@admin.register(RightsShare)
class RightsShareAdmin(CreatorScopedAdmin):
    """Read-only: shares change together, in the work's form, so they always total 10,000."""

    creator_path = "work__creator"
    list_display = ["work", "creator", "basis_points"]
    list_select_related = ["work", "creator"]
    search_fields = ["work__title", "work__public_id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- Collections ----------------------------------------------------------------------


class CollectionAdminForm(forms.ModelForm):
    class Meta:
        model = Collection
        fields = ["creator", "title", "works"]


@admin.register(Collection)
class CollectionAdmin(CreatorScopedAdmin):
    form = CollectionAdminForm
    list_display = ["title", "public_id", "work_count", "created_at"]
    readonly_fields = ["public_id", "created_at"]
    filter_horizontal = ["works"]
    search_fields = ["title", "public_id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("works")

    def get_fields(self, request: HttpRequest, obj: Collection | None = None) -> list[str]:
        fields = ["public_id", "title", "works"]
        if request_creator(request) is None and obj is None:
            fields.insert(1, "creator")
        return fields

    @admin.display(description="Works")
    def work_count(self, collection: Collection) -> int:
        return len(collection.works.all())

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        creator = request_creator(request)
        if db_field.name == "creator" and creator is not None:
            kwargs["queryset"] = Creator.objects.filter(pk=creator.pk)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "works":
            works = Work.objects.filter(reserved=False)
            creator = request_creator(request)
            if creator is not None:
                works = works.filter(creator=creator)
            kwargs["queryset"] = works
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Collection, form: Any, change: bool) -> None:
        works = list(form.cleaned_data.get("works", []))
        if change:
            services.collection_update(collection=obj, title=obj.title, works=works)
            return
        creator = request_creator(request) or form.cleaned_data["creator"]
        collection = services.collection_create(creator=creator, title=obj.title, works=works)
        _adopt(obj, collection)

    def save_related(self, request: HttpRequest, form: Any, formsets: list, change: bool) -> None:
        """The works were set by the service in `save_model`."""

    def has_delete_permission(self, request: HttpRequest, obj: Collection | None = None) -> bool:
        if (
            obj is not None
            and OfferVersion.objects.filter(
                offer__collection=obj, licensed_at__isnull=False
            ).exists()
        ):
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request: HttpRequest, obj: Collection) -> None:
        services.collection_delete(collection=obj)


# --- Offers ---------------------------------------------------------------------------


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
            _licensing_error_to_form(self, error, self._TARGET_ALIASES)
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
        return _offer_label(offer)

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
        _adopt(obj, offer)

    def save_related(self, request: HttpRequest, form: Any, formsets: list, change: bool) -> None:
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def delete_model(self, request: HttpRequest, obj: Offer) -> None:
        services.offer_delete(offer=obj)


# --- Creators and keys ----------------------------------------------------------------


class CreatorAdminForm(forms.ModelForm):
    class Meta:
        model = Creator
        fields = ["display_name", "country", "payout_currency"]


@admin.register(Creator)
class CreatorAdmin(CreatorScopedAdmin):
    form = CreatorAdminForm
    creator_path = "pk"
    list_display = ["display_name", "public_id", "payout_currency", "onboarding_state"]
    list_select_related = ["user"]
    search_fields = ["display_name", "public_id", "user__username"]
    fields = [
        "public_id",
        "login",
        "display_name",
        "country",
        "payout_currency",
        "stripe_account_id",
        "onboarding_state",
        "ledger_accounts",
    ]
    readonly_fields = [
        "public_id",
        "login",
        "stripe_account_id",
        "onboarding_state",
        "ledger_accounts",
    ]

    @admin.display(description="Login")
    def login(self, creator: Creator) -> str:
        return creator.user.username

    @admin.display(description="Ledger accounts")
    def ledger_accounts(self, creator: Creator) -> str:
        rows = selectors.creator_ledger_accounts(creator=creator)
        if not rows:
            return "—"
        return format_html(
            "<table><thead><tr><th>Account</th><th>Currency</th><th>Balance</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                ((row.code, row.currency.upper(), row.balance_label) for row in rows),
            ),
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # creators are created with `manage.py create_creator`

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Creator, form: Any, change: bool) -> None:
        services.creator_update(
            creator=obj,
            display_name=form.cleaned_data["display_name"],
            country=form.cleaned_data["country"],
            payout_currency=form.cleaned_data["payout_currency"],
        )


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Staff see keys by their prefix and can revoke them; a key's secret is never stored."""

    list_display = ["prefix", "kind", "creator", "user", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["kind"]
    list_select_related = ["creator", "user"]
    readonly_fields = [field.name for field in ApiKey._meta.fields]
    actions = ["revoke_keys"]

    @admin.action(description="Revoke the selected keys", permissions=["revoke"])
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet) -> None:
        if not self.has_revoke_permission(request):
            raise PermissionDenied
        keys = list(queryset.filter(revoked_at__isnull=True)[:1000])
        for api_key in keys:
            services.api_key_revoke(api_key=api_key)
        self.message_user(request, f"{len(keys)} key(s) revoked.")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a key's row is read-only; revoking is its only change

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        """Revoking needs the model's change permission (view-only staff may only look)."""
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# The licensee side of the portal lives in its own module; importing it registers it.
from licensing import admin_licensees  # noqa: E402, F401
