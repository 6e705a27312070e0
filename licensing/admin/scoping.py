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

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import actions as admin_actions
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.utils.text import capfirst
from simple_history.admin import SimpleHistoryAdmin

from ledger.display import money_from_minor
from licensing.errors import LicensingError
from licensing.models import (
    Creator,
    Offer,
    OfferVersion,
)
from licensing.services.validation import COLLECTION_WORKS_MAX


def request_creator(request: HttpRequest) -> Creator | None:
    """The creator a portal request is scoped to; None for superusers and other staff."""
    user = request.user
    if not user.is_authenticated or user.is_superuser:
        return None
    try:
        return user.creator
    except Creator.DoesNotExist:
        return None


def instance_adopt(target: Any, saved: Any) -> None:
    """Make the admin's unsaved instance the row a service saved (for redirects and logs)."""
    for field in saved._meta.concrete_fields:
        setattr(target, field.attname, getattr(saved, field.attname))
    target._state.adding = False


def offer_label(offer: Offer) -> str:
    version = offer.current_version
    if version is None:
        return offer.use
    if version.pricing == OfferVersion.Pricing.PER_UNIT:
        price = (
            f"{money_from_minor(version.unit_amount_decimal, version.currency)} per {version.unit}"
        )
    else:
        price = money_from_minor(version.amount, version.currency)
    unit = ""
    if version.pricing == OfferVersion.Pricing.POOL:
        unit = f" · usage in {version.unit or OfferVersion.Unit.ITEM}s"
    return f"{offer.use} · {version.pricing} {price}{unit} · v{version.version} · {offer.status}"


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
        for obj in queryset[:COLLECTION_WORKS_MAX]:
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


def licensing_error_to_form(form: forms.BaseForm, error: LicensingError, aliases: dict) -> None:
    field = aliases.get(error.param, error.param)
    form.add_error(field if field in form.fields else None, error.message)
