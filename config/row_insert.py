"""An INSERT of one model instance, compiled once, that saves exactly as `save()` would.

The rows every purchase writes (the idempotency claim, the purchase, the license) were
inserted by `Model.save()`, which compiles the INSERT anew each time; that was a tenth
of a purchase's Python time under load (docs/benchmarks.md). `RowInsert` writes the
statement once per process and database from the model's `_meta`, and fills it the way
the ORM does: each field's `pre_save` (so `auto_now_add` is set), then its
`get_db_prep_save` (so JSON and dates are adapted), and the new primary key is read back
with RETURNING. A model that anything listens to (`pre_save`/`post_save`, e.g. an audit
history) is saved by `save()` instead, so no receiver is ever skipped.
"""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import Model
from django.db.models.signals import post_save, pre_save


class RowInsert:
    def __init__(self, model: type[Model]) -> None:
        # The database numbers the row; RETURNING hands the number back.
        assert model._meta.pk.db_returning, f"{model.__name__}'s key is not generated"
        self.model = model
        self._fields = [field for field in model._meta.concrete_fields if not field.primary_key]
        self._sql: str | None = None

    def _statement(self) -> str:
        if self._sql is None:
            quote = connection.ops.quote_name
            meta = self.model._meta
            columns = ", ".join(quote(field.column) for field in self._fields)
            parameters = ", ".join(["%s"] * len(self._fields))
            self._sql = (
                f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({parameters})"
                f" RETURNING {quote(meta.pk.column)}"
            )
        return self._sql

    def insert(self, instance: Model) -> None:
        """Insert `instance` (not yet saved); set its primary key and saved state."""
        assert isinstance(instance, self.model), instance
        assert instance._state.adding, f"{instance!r} is saved already"
        if pre_save.has_listeners(self.model) or post_save.has_listeners(self.model):
            instance.save(force_insert=True)
            return
        values = [
            field.get_db_prep_save(field.pre_save(instance, True), connection)
            for field in self._fields
        ]
        with connection.cursor() as cursor:
            cursor.execute(self._statement(), values)
            instance.pk = cursor.fetchone()[0]
        instance._state.adding = False
        instance._state.db = DEFAULT_DB_ALIAS
