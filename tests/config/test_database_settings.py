"""PostgreSQL connections prepare the statements the API repeats (docs/development.md)."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_a_statement_run_five_times_is_prepared_on_its_connection() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        (before,) = cursor.fetchone()
        for number in range(6):
            cursor.execute("SELECT %s::bigint + 1", [number])
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        (after,) = cursor.fetchone()

    assert after == before + 1
