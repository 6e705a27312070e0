"""A work's co-owners in the portal: picked by name, checked as a set, saved by the service.

The picker asks `CoOwnerAutocompleteView` (`/admin/licensing/work/co-owners/`), not
Django's `/admin/autocomplete/`: that one searches through `CreatorAdmin`, which a
creator sees scoped to themselves, so a creator could find nobody else. This view
searches every creator, but by display name alone (what the public work pages already
show), answers with the public id and the name and nothing else (no login, email or
internal key), wants two typed characters and answers at most ten names, so it cannot
page through the roster. Only portal users who may add or change works may ask.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.urls import reverse

from licensing.errors import LicensingError
from licensing.models import Creator, RightsShare
from licensing.services.works import ShareSpec, rights_shares_check

CO_OWNER_TERM_MIN = 2
CO_OWNER_RESULTS_MAX = 10
CO_OWNER_TERM_MAX = Creator._meta.get_field("display_name").max_length


def co_owner_candidates(term: str) -> list[Creator]:
    term = term.strip()
    # No name is longer than its column, and PostgreSQL refuses a NUL in a parameter
    # (a 500, were it sent): neither can name anybody.
    if not CO_OWNER_TERM_MIN <= len(term) <= CO_OWNER_TERM_MAX or "\x00" in term:
        return []
    return list(
        Creator.objects.exclude(display_name="")
        .filter(display_name__icontains=term)
        .order_by("display_name", "public_id")
        .only("public_id", "display_name")[:CO_OWNER_RESULTS_MAX]
    )


def co_owner_labels(creators: list[Creator]) -> dict[int, str]:
    """Each creator's name; two creators of one name are told apart by their public id."""
    names = [creator.display_name for creator in creators]
    return {
        creator.pk: (
            f"{creator.display_name} ({creator.public_id})"
            if names.count(creator.display_name) > 1
            else creator.display_name
        )
        for creator in creators
    }


class CoOwnerAutocompleteView(AutocompleteJsonView):
    """Django's autocomplete answer (`results`, `pagination`), scoped as the module says."""

    work_admin: admin.ModelAdmin | None = None
    paginate_by = CO_OWNER_RESULTS_MAX  # one page: the candidates are at most this many

    def process_request(self, request: HttpRequest) -> tuple:
        # One fixed source field: the GET's app, model and field names choose nothing here.
        return request.GET.get("term", ""), self.work_admin, None, "public_id"

    def has_perm(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.work_admin.has_add_permission(request) or self.work_admin.has_change_permission(
            request
        )

    def get_queryset(self) -> list[Creator]:
        self.candidates = co_owner_candidates(self.term)
        self.labels = co_owner_labels(self.candidates)
        return self.candidates

    def serialize_result(self, obj: Creator, to_field_name: str) -> dict[str, str]:
        return {"id": obj.public_id, "text": self.labels[obj.pk]}


class CoOwnerSelect(AutocompleteSelect):
    """Django's select2 widget, asking the co-owner view and naming creators by public id."""

    def get_url(self) -> str:
        return reverse(f"{self.admin_site.name}:licensing_work_co_owners")

    def build_attrs(self, base_attrs: dict, extra_attrs: dict | None = None) -> dict:
        attrs = super().build_attrs(base_attrs, extra_attrs=extra_attrs)
        # select2 reads its options from data attributes: no inline script (the CSP).
        attrs["data-minimum-input-length"] = CO_OWNER_TERM_MIN
        attrs["data-placeholder"] = "Type a creator's name"
        return attrs

    def optgroups(self, name: str, value: list, attr: Any = None) -> list:
        # Django's version looks the chosen value up by the foreign key's target (the
        # internal id); the form names co-owners by public id.
        selected = [str(item) for item in value if item not in (None, "")]
        options = [self.create_option(name, "", "", False, 0)] if not self.is_required else []
        creators = list(Creator.objects.filter(public_id__in=selected).only("public_id"))
        labels = co_owner_labels(creators)
        for creator in creators:
            options.append(
                self.create_option(name, creator.public_id, labels[creator.pk], True, len(options))
            )
        return [(None, options, 0)]


class CoOwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Creator) -> str:
        return obj.display_name


class RightsShareForm(forms.ModelForm):
    # Named by public id on the wire: the picker shows names and sends ids.
    creator = CoOwnerChoiceField(
        queryset=Creator.objects.all(),
        to_field_name="public_id",
        label="Co-owner",
        error_messages={"invalid_choice": "No creator has this id."},
    )

    admin_site: admin.AdminSite = admin.site  # the inline sets its own

    class Meta:
        model = RightsShare
        fields = ["creator", "basis_points"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["creator"]
        widget = CoOwnerSelect(RightsShare._meta.get_field("creator"), self.admin_site)
        widget.choices, widget.is_required = field.choices, field.required
        field.widget = widget
        if self.instance.pk:
            self.initial["creator"] = self.instance.creator.public_id


class RightsShareFormSet(BaseInlineFormSet):
    """Check the whole set of shares (10,000 in total); the work admin saves them."""

    def share_specs(self) -> list[ShareSpec]:
        return [
            ShareSpec(
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
            rights_shares_check(specs)
        except LicensingError as error:
            raise ValidationError(error.message) from None


class RightsShareInline(admin.TabularInline):
    model = RightsShare
    form = RightsShareForm
    formset = RightsShareFormSet
    extra = 1
    fields = ["creator", "basis_points"]
    verbose_name = "co-owner share"
    verbose_name_plural = "Co-owners (shares in basis points, totalling 10,000)"

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.admin_site = self.admin_site  # a class made for this call alone
        return formset

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("creator")
