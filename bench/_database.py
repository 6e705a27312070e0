"""The scratch database every benchmark drops and makes again."""

from __future__ import annotations

import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg

# Databases a benchmark must never drop, whatever DATABASE_URL names.
_KEPT = {"", "postgres", "template0", "template1", "test"}


def database_recreate(url: str) -> None:
    """Drop and create the database `url` names, connecting to `postgres` to do it."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if name in _KEPT:
        sys.exit(f"refusing to recreate database {name!r}; name a scratch database")
    admin_url = urlunsplit(parts._replace(path="/postgres", query=""))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
