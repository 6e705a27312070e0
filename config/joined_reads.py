"""SELECTs compiled once, read into model instances exactly as the ORM reads them.

Django compiles a queryset into SQL on every evaluation, and a `select_related` over
four or five tables costs more Python CPU to compile than PostgreSQL spends running
it (docs/benchmarks.md). No maintained library caches compiled querysets for Django
5.2, so the read every API request runs, the API key with whom it acts for
(`licensing.selectors.api_keys`), and the one every purchase runs, the offer for sale
with its owners (`licensing.selectors.purchases`), are joins written here once.
Everything else is plain ORM: a new hand-written statement needs a profile in
docs/benchmarks.md (docs/architecture.md). What keeps this one honest:

- each table's columns come from its model's `_meta`, so a new field is read without
  touching the SQL;
- each value passes through the converters the ORM itself would apply (SQLite's
  dates, `from_db_value` of fields such as `JSONField`);
- instances are built by `Model.from_db`, the ORM's documented loading hook, and each
  joined one is set on the foreign key its `Table` names (`joined_to`), None where
  the LEFT JOIN missed, as `select_related` would set it.

`tests/config/test_joined_reads.py` compares every instance field by field with the
ORM's own reading, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import Field, Model

Converter = Callable[[Any, Any, Any], Any]


@dataclass(frozen=True)
class Table:
    """One model in a joined read, the alias the SQL gives its table, and where it hangs.

    `joined_to=("k", "creator")` sets each row's instance of this table as the
    `creator` of the row's instance of the table aliased `k`.
    """

    model: type[Model]
    alias: str
    joined_to: tuple[str, str] | None = None

    @property
    def fields(self) -> list[Field]:
        return self.model._meta.concrete_fields

    @property
    def name(self) -> str:
        """`"table" "alias"`, for the FROM and JOIN clauses."""
        quote = connection.ops.quote_name
        return f"{quote(self.model._meta.db_table)} {quote(self.alias)}"

    def column(self, attname: str) -> str:
        """`"alias"."column"` of the field stored under `attname` (e.g. `organization_id`)."""
        quote = connection.ops.quote_name
        return f"{quote(self.alias)}.{quote(self.model._meta.get_field(attname).column)}"


class JoinedRead:
    """A SELECT of every column of several tables, each row read into their instances.

    `sql_for(columns)` writes the statement around the select list (the FROM, the
    joins and the WHERE are the caller's); it runs once per process. Accord has one
    database, the default one, and every read runs there.
    """

    def __init__(self, tables: Sequence[Table], sql_for: Callable[[str], str]) -> None:
        self.tables = tuple(tables)
        aliases = [table.alias for table in self.tables]
        # (index of the child table, index of its parent, the parent's field name)
        self._links = [
            (index, aliases.index(table.joined_to[0]), table.joined_to[1])
            for index, table in enumerate(self.tables)
            if table.joined_to is not None
        ]
        assert all(child > parent for child, parent, _ in self._links), "parents come first"
        self._sql_for = sql_for
        self._compiled: _Compiled | None = None

    def _compile(self) -> _Compiled:
        if self._compiled is None:
            quote = connection.ops.quote_name
            columns, converting, slices = [], [], []
            for table in self.tables:
                fields = table.fields
                start = len(columns)
                for field in fields:
                    column = field.get_col(table.alias)
                    converters = connection.ops.get_db_converters(
                        column
                    ) + column.get_db_converters(connection)
                    if converters:
                        converting.append((len(columns), converters, column))
                    columns.append(f"{quote(table.alias)}.{quote(field.column)}")
                slices.append(
                    _TableSlice(
                        table.model,
                        start,
                        len(columns),
                        start + fields.index(table.model._meta.pk),
                        [field.attname for field in fields],
                    )
                )
            self._compiled = _Compiled(self._sql_for(", ".join(columns)), converting, slices)
        return self._compiled

    def sql(self) -> str:
        return self._compile().sql

    def rows(self, params: Sequence[Any]) -> list[tuple[Model | None, ...]]:
        """Run the read; each row as one instance per table (None where a LEFT JOIN missed)."""
        compiled = self._compile()
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            fetched = cursor.fetchall()
        rows = [compiled.instances(row) for row in fetched]
        for instances in rows:
            for child, parent, field_name in self._links:
                if instances[parent] is not None:
                    setattr(instances[parent], field_name, instances[child])
        return rows


@dataclass(frozen=True)
class _TableSlice:
    """Where one table's columns sit in a joined row."""

    model: type[Model]
    start: int
    end: int
    pk_index: int
    attnames: list[str]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # (index in the row, converters, column): only the columns that have converters.
    converting: list[tuple[int, list[Converter], Any]]
    slices: list[_TableSlice]

    def instances(self, row: Sequence[Any]) -> tuple[Model | None, ...]:
        values = list(row)
        for index, converters, column in self.converting:
            for converter in converters:
                values[index] = converter(values[index], column, connection)
        return tuple(
            None
            if values[table.pk_index] is None
            else table.model.from_db(
                DEFAULT_DB_ALIAS, table.attnames, values[table.start : table.end]
            )
            for table in self.slices
        )
