"""Database helpers the apps share."""

from __future__ import annotations

import contextlib

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction


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


def current_database() -> tuple[str, str]:
    """The default connection's alias and database name: what a per-process cache of rows
    is keyed by, so the databases one process opens (a test run's) never share entries."""
    return connection.alias, str(connection.settings_dict["NAME"])
