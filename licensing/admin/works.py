"""The creator portal's works and their co-owners' shares (read-only beside the work)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from import_export.admin import ImportMixin
from import_export.formats.base_formats import CSV

from config.admin_mixins import ReadOnlyAdminMixin
from licensing.admin.co_owners import (
    CoOwnerAutocompleteView,
    RightsShareFormSet,
    RightsShareInline,
)
from licensing.admin.scoping import (
    CreatorScopedAdmin,
    instance_adopt,
    offer_label,
    request_creator,
)
from licensing.identifiers import IDENTIFIER_KINDS, identifier_normalize
from licensing.models import (
    Collection,
    Creator,
    Offer,
    OfferVersion,
    RightsShare,
    Work,
)
from licensing.resources import WorkResource
from licensing.selectors.clearances import work_is_quoted
from licensing.services.validation import COLLECTION_WORKS_MAX
from licensing.services.works import (
    rights_shares_set,
    work_create,
    work_delete,
    work_reserve,
    work_update,
)


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

    def get_urls(self) -> list:
        co_owners = CoOwnerAutocompleteView.as_view(admin_site=self.admin_site, work_admin=self)
        return [
            path(
                "co-owners/",
                self.admin_site.admin_view(co_owners),
                name="licensing_work_co_owners",
            ),
            *super().get_urls(),
        ]

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
        labels = [offer_label(offer) for offer in work.offers.all()]
        if not work.reserved:
            labels += [
                f"via {collection.title}: {offer_label(offer)}"
                for collection, offer in self._collection_offers(work)
            ]
        if not labels:
            return "—"
        return format_html_join(mark_safe("<br>"), "{}", ((label,) for label in labels))

    @admin.action(description="Reserve the selected works from all AI use", permissions=["change"])
    def reserve_works(self, request: HttpRequest, queryset: QuerySet) -> None:
        # Django offers the action only with the change permission; each row is checked
        # again (its scope included) in case a POST names rows the list did not show.
        works = list(queryset[:COLLECTION_WORKS_MAX])
        if not all(self.has_change_permission(request, work) for work in works):
            raise PermissionDenied
        for work in works:
            work_reserve(work=work)
        self.message_user(request, f"{len(works)} work(s) reserved; their offers are withdrawn.")

    def has_delete_permission(self, request: HttpRequest, obj: Work | None = None) -> bool:
        if (
            obj is not None
            and OfferVersion.objects.filter(offer__work=obj, licensed_at__isnull=False).exists()
        ) or (obj is not None and work_is_quoted(work=obj)):
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
            work_update(
                work=obj,
                title=obj.title,
                kind=obj.kind,
                identifiers=identifiers,
                reserved=obj.reserved,
            )
            return
        creator = request_creator(request) or form.cleaned_data["creator"]
        work = work_create(
            creator=creator,
            title=obj.title,
            kind=obj.kind,
            identifiers=identifiers,
            reserved=obj.reserved,
        )
        instance_adopt(obj, work)

    def save_related(self, request: HttpRequest, form: Any, formsets: list, change: bool) -> None:
        for formset in formsets:
            if isinstance(formset, RightsShareFormSet):
                specs = formset.share_specs()
                if specs:
                    rights_shares_set(work=form.instance, shares=specs)
            # The admin's change message reads these; the service did the saving.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def delete_model(self, request: HttpRequest, obj: Work) -> None:
        work_delete(work=obj)


@admin.register(RightsShare)
class RightsShareAdmin(ReadOnlyAdminMixin, CreatorScopedAdmin):
    """Read-only: shares change together, in the work's form, so they always total 10,000."""

    creator_path = "work__creator"
    list_display = ["work", "creator", "basis_points"]
    list_select_related = ["work", "creator"]
    search_fields = ["work__title", "work__public_id"]
