"""Database helpers the apps share."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Model


def savepoint_if_nested(using: str = DEFAULT_DB_ALIAS) -> contextlib.AbstractContextManager[object]:
    """Guard one statement whose IntegrityError the caller catches and handles.

    Inside a transaction only a savepoint keeps the transaction usable after the
    error. Outside one, in autocommit, a single statement is atomic by itself and its
    failure leaves the connection usable: wrapping it in `atomic()` would only add a
    BEGIN and a COMMIT round trip.
    """
    if connections[using].in_atomic_block:
        return transaction.atomic(using=using)
    return contextlib.nullcontext()


@dataclass(frozen=True)
class SqlNames:
    """A model's table and some of its columns, quoted for hand-written SQL."""

    table: str
    columns: dict[str, str]

    def __getitem__(self, field_name: str) -> str:
        return self.columns[field_name]


def sql_names(model: type[Model], *field_names: str) -> SqlNames:
    """Quote a model's table and fields' columns as its `_meta` names them."""
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    meta = model._meta
    return SqlNames(
        quote(meta.db_table),
        {name: quote(meta.get_field(name).column) for name in field_names},
    )
