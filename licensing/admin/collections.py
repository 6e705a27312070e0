"""The creator portal's collections."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from licensing.admin.scoping import (
    CreatorScopedAdmin,
    instance_adopt,
    request_creator,
)
from licensing.models import (
    Collection,
    Creator,
    OfferVersion,
    Work,
)
from licensing.services.collections import collection_create, collection_delete, collection_update


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
            collection_update(collection=obj, title=obj.title, works=works)
            return
        creator = request_creator(request) or form.cleaned_data["creator"]
        collection = collection_create(creator=creator, title=obj.title, works=works)
        instance_adopt(obj, collection)

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
        collection_delete(collection=obj)
