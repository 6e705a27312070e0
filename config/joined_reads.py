"""SELECTs compiled once, read into model instances exactly as the ORM reads them.

Django compiles a queryset into SQL on every evaluation, and a `select_related` over
four or five tables costs more Python CPU to compile than PostgreSQL spends running
it: under load it was a third of a purchase's Python time (docs/benchmarks.md). No
maintained library caches compiled querysets for Django 5.2, so the few reads on
every request's path (the API key and its owner; the offer, its version and work)
are joins written here once. What keeps them honest:

- each table's columns come from its model's `_meta`, so a new field is read without
  touching the SQL;
- each value passes through the converters the ORM itself would apply (SQLite's
  dates, `from_db_value` of fields such as `JSONField`);
- instances are built by `Model.from_db`, the ORM's documented loading hook, and the
  joined ones are set on their foreign keys as `select_related` would set them.

`tests/config/test_joined_reads.py` compares every instance field by field with the
ORM's own reading, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Field, Model

Converter = Callable[[Any, Any, Any], Any]
# A column's converters, with the column expression they are called with.
ColumnConverters = tuple[list[Converter], Any]


@dataclass(frozen=True)
class Table:
    """One model in a joined read, and the alias the SQL gives its table."""

    model: type[Model]
    alias: str

    @property
    def fields(self) -> list[Field]:
        return self.model._meta.concrete_fields

    @property
    def name(self) -> str:
        """`"table" "alias"`, for the FROM and JOIN clauses."""
        quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
        return f"{quote(self.model._meta.db_table)} {quote(self.alias)}"

    def column(self, attname: str) -> str:
        """`"alias"."column"` of the field stored under `attname` (e.g. `organization_id`)."""
        quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
        field = next(field for field in self.fields if field.attname == attname)
        return f"{quote(self.alias)}.{quote(field.column)}"


class JoinedRead:
    """A SELECT of every column of several tables, each row read into their instances.

    `sql_for(columns)` writes the statement around the select list (the FROM, the
    joins and the WHERE are the caller's); it runs once per process and database.
    """

    def __init__(self, tables: Sequence[Table], sql_for: Callable[[str], str]) -> None:
        self.tables = tuple(tables)
        self._sql_for = sql_for
        self._compiled: dict[str, tuple[str, list[ColumnConverters]]] = {}

    def _compile(self, using: str) -> tuple[str, list[ColumnConverters]]:
        compiled = self._compiled.get(using)
        if compiled is None:
            connection = connections[using]
            quote = connection.ops.quote_name
            columns, converters = [], []
            for table in self.tables:
                for field in table.fields:
                    columns.append(f"{quote(table.alias)}.{quote(field.column)}")
                    column = field.get_col(table.alias)
                    converters.append(
                        (
                            connection.ops.get_db_converters(column)
                            + column.get_db_converters(connection),
                            column,
                        )
                    )
            compiled = (self._sql_for(", ".join(columns)), converters)
            self._compiled[using] = compiled
        return compiled

    def sql(self, using: str = DEFAULT_DB_ALIAS) -> str:
        return self._compile(using)[0]

    def rows(
        self, params: Sequence[Any], using: str = DEFAULT_DB_ALIAS
    ) -> list[tuple[Model | None, ...]]:
        """Run the read; each row as one instance per table (None where a LEFT JOIN missed)."""
        sql, converters = self._compile(using)
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        return [self._instances(row, converters, connection, using) for row in fetched]

    def _instances(
        self,
        row: Sequence[Any],
        converters: list[ColumnConverters],
        connection: Any,
        using: str,
    ) -> tuple[Model | None, ...]:
        values = list(row)
        for index, (column_converters, column) in enumerate(converters):
            for converter in column_converters:
                values[index] = converter(values[index], column, connection)
        instances: list[Model | None] = []
        start = 0
        for table in self.tables:
            fields = table.fields
            own = values[start : start + len(fields)]
            start += len(fields)
            pk_index = fields.index(table.model._meta.pk)
            instances.append(
                None
                if own[pk_index] is None
                else table.model.from_db(using, [field.attname for field in fields], own)
            )
        return tuple(instances)
