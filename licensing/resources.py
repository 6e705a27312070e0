"""Import a catalogue of works from CSV (django-import-export), through the services.

Columns: `title`, `kind`, `sha256`, `isrc`, `isbn`, `doi`, `url`, `reserved`, and
for staff (who import on a creator's behalf) `creator`, a creator id. Every row is a
new work: an import never rewrites existing works, so a file imported twice fails on
its duplicate identifiers instead of silently changing anything.

Each identifier column is normalized by the same code as the API (a widget that raises
`ValueError`, which import-export shows as an error on that cell); duplicates, within
the file or against the catalogue, are caught by the model's uniqueness check during
the dry run. The admin shows the preview with every row's errors and offers to
confirm only when there are none, and the real run happens in one transaction that
rolls back on any error: a broken row means nothing is saved.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from import_export import fields, resources, widgets

from licensing.identifiers import IDENTIFIER_KINDS, identifier_normalize
from licensing.models import Creator, Work
from licensing.services.works import work_create


class IdentifierWidget(widgets.CharWidget):
    """A cell holding one identifier, normalized; empty means none."""

    def __init__(self, kind: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kind = kind

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str | None:
        if value is None or not str(value).strip():
            return None
        try:
            return identifier_normalize(self.kind, str(value))
        except ValidationError as error:
            raise ValueError(error.messages[0]) from None


class KindWidget(widgets.CharWidget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        kind = str(value or "").strip().lower()
        if kind not in Work.Kind.values:
            raise ValueError("kind is one of " + ", ".join(Work.Kind.values) + ".")
        return kind


class WorkResource(resources.ModelResource):
    """Rows of works; `creator` is the importing creator, or a column for staff."""

    title = fields.Field(attribute="title", column_name="title", widget=widgets.CharWidget())
    kind = fields.Field(attribute="kind", column_name="kind", widget=KindWidget())
    sha256 = fields.Field(
        attribute="sha256", column_name="sha256", widget=IdentifierWidget("sha256")
    )
    isrc = fields.Field(attribute="isrc", column_name="isrc", widget=IdentifierWidget("isrc"))
    isbn = fields.Field(attribute="isbn", column_name="isbn", widget=IdentifierWidget("isbn"))
    doi = fields.Field(attribute="doi", column_name="doi", widget=IdentifierWidget("doi"))
    url = fields.Field(attribute="url", column_name="url", widget=IdentifierWidget("url"))
    reserved = fields.Field(
        attribute="reserved", column_name="reserved", widget=widgets.BooleanWidget(), default=False
    )

    class Meta:
        model = Work
        fields = ("title", "kind", *IDENTIFIER_KINDS, "reserved")
        import_id_fields: tuple[str, ...] = ()
        force_init_instance = True
        clean_model_instances = True
        use_transactions = True
        skip_diff = False

    def __init__(self, creator: Creator | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.creator = creator

    def _row_creator(self, row: Any) -> Creator:
        if self.creator is not None:
            return self.creator
        public_id = str(row.get("creator") or "").strip()
        creator = Creator.objects.filter(public_id=public_id).first() if public_id else None
        if creator is None:
            raise ValidationError({"creator": "Give the creator id (cre_…) of each work."})
        return creator

    def before_import_row(self, row: Any, **kwargs: Any) -> None:
        self._current_creator = self._row_creator(row)

    def import_instance(self, instance: Work, row: Any, **kwargs: Any) -> None:
        # The model's full_clean needs a creator; the real one is set by the service.
        instance.creator = self._current_creator
        super().import_instance(instance, row, **kwargs)

    def save_instance(self, instance: Work, is_create: bool, row: Any, **kwargs: Any) -> None:
        assert is_create, "imports only ever create works"
        work = work_create(
            creator=self._current_creator,
            title=instance.title,
            kind=instance.kind,
            identifiers={kind: getattr(instance, kind) for kind in IDENTIFIER_KINDS},
            reserved=bool(instance.reserved),
        )
        # Hand the saved row back to import-export, which reports and logs it.
        instance.pk = work.pk
        instance.public_id = work.public_id
        instance.created_at = work.created_at
        instance.updated_at = work.updated_at
        instance._state.adding = False
