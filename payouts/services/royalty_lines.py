"""Writing a run's lines: by COPY on PostgreSQL, in bulk INSERTs elsewhere.

A run writes one line per (creator, work, license, kind): 10,000 and more for a
month. `bulk_create` spent more time building the model instances, preparing every
field and having the server parse its 55,000-parameter statements than the rating
took (docs/benchmarks.md, "Royalty runs"); COPY sends the same rows as text. The
values are the ones `bulk_create` would write (`tests/payouts/test_royalty_lines.py`
compares both): integers, the kind's and currency's codes, and the rate, a Decimal
of at most the column's twelve places (it comes from an offer version's column of
the same precision).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection

from payouts.models import RoyaltyLine, RoyaltyRun
from payouts.rating import RatedLine

LINES_PER_INSERT = 5_000
# The model's field names, in the order each row gives them.
LINE_FIELDS = (
    "run",
    "creator",
    "work",
    "license",
    "kind",
    "units",
    "rate",
    "gross_micros",
    "commission_micros",
    "net_micros",
    "currency",
)


def _rows(run: RoyaltyRun, rated: Sequence[tuple[str, RatedLine]]):
    run_id = run.pk
    for currency, line in rated:
        yield (
            run_id,
            line.creator,
            line.work,
            line.license,
            line.kind,
            line.units,
            line.rate,
            line.gross_micros,
            line.commission_micros,
            line.net_micros,
            currency,
        )


def lines_insert(
    run: RoyaltyRun, rated: Sequence[tuple[str, RatedLine]], *, copy: bool | None = None
) -> None:
    """Write (currency, line) pairs as the run's lines; `copy=False` forces the ORM path."""
    if copy is None:
        copy = connection.vendor == "postgresql"
    if not copy:
        _lines_bulk_create(run, rated)
        return
    quote = connection.ops.quote_name
    meta = RoyaltyLine._meta
    names = ", ".join(quote(meta.get_field(name).column) for name in LINE_FIELDS)
    statement = f"COPY {quote(meta.db_table)} ({names}) FROM STDIN"
    # COPY goes around Django's cursor wrapper; wrap_database_errors turns psycopg's
    # errors (a constraint, a foreign key) into Django's, as for any other statement.
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(statement) as stream,
    ):
        for row in _rows(run, rated):
            stream.write_row(row)


def _lines_bulk_create(run: RoyaltyRun, rated: Sequence[tuple[str, RatedLine]]) -> None:
    lines = [
        RoyaltyLine(
            run=run,
            creator_id=line.creator,
            work_id=line.work,
            license_id=line.license,
            kind=line.kind,
            units=line.units,
            rate=line.rate,
            gross_micros=line.gross_micros,
            commission_micros=line.commission_micros,
            net_micros=line.net_micros,
            currency=currency,
        )
        for currency, line in rated
    ]
    for offset in range(0, len(lines), LINES_PER_INSERT):
        RoyaltyLine.objects.bulk_create(lines[offset : offset + LINES_PER_INSERT])
