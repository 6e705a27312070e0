"""Ingest a batch of usage events: resolve, flag, deduplicate, store — all or nothing.

Everything after decoding is set-based SQL against a staging table, in one
transaction, the same statements on PostgreSQL and SQLite:

1. the decoded events go into the temporary table `usage_staging` — with `COPY` on
   PostgreSQL (psycopg 3), one `executemany` on SQLite;
2. one `INSERT … SELECT` joins the staging rows to the organisation's licenses, their
   offers, the works (by id or any identifier) and the licenses' works into
   `usage_resolved`, computing each row's flag and, for a bad row, its problem;
3. one `SELECT` of the problems: any → `usage_invalid` with a detail per bad event,
   and the transaction rolls back (nothing was written outside the temporary tables);
   on PostgreSQL one more locks the rows the batch refers to, as FK checks would
   (`usage_references`: the usage tables have no database FK constraints);
4. the dedup keys go in with `INSERT … ON CONFLICT (organization, event id) DO
   NOTHING RETURNING`, so an id already stored — by an earlier batch, or a concurrent
   request that committed first — comes back as nothing and is a duplicate, and the
   events are inserted for exactly the keys that came back. Within a batch the first
   occurrence of an id wins, and ids follow the batch's order (lists show newest
   first). PostgreSQL does both inserts in one statement (data-modifying CTEs);
   SQLite, which has none, keeps the returned keys in `usage_fresh` and joins it.

No statement runs per event; Python touches each event only to stage it.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from licensing.errors import LicensingError, LicensingErrorCode
from licensing.models import License, Offer, OfferVersion, Work
from licensing.models.usage import (
    UsageCorrection,
    UsageEvent,
    UsageEventKey,
    UsageFlag,
    UsagePeriod,
)
from licensing.selectors.usage import usage_period_next_open
from licensing.services.usage_partitions import usage_partitions_ensure
from licensing.services.usage_period_locks import usage_periods_lock
from licensing.services.usage_references import usage_references_lock

USAGE_INVALID = LicensingErrorCode.USAGE_INVALID
WORK_REFERENCE_KINDS = ("public_id", "sha256", "isrc", "isbn", "doi", "url")
_STAGED = (
    "idx", "event_id", "license_ref", "work_kind", "work_value", "unit", "units",
    "occurred_at", "period", "model", "first",
)  # fmt: skip
# What an event row gets from `usage_resolved`, in the events table's column names.
_STORED = (
    "event_id", "license_id", "work_id", "use", "unit", "units", "occurred_at", "period", "flag",
    "model",
)  # fmt: skip
_PROBLEMS = {
    "license": ("license", "license_unknown", "No such license."),
    "work": ("work", "work_unknown", "No such work."),
    "future": ("occurred_at", "occurred_in_future", "In the future."),
}


@dataclass
class UsageReceipt:
    accepted: int = 0
    duplicates: int = 0
    flagged: dict[str, int] = field(default_factory=lambda: dict.fromkeys(UsageFlag.values, 0))


def usage_invalid(details: list[dict[str, Any]]) -> LicensingError:
    return LicensingError(
        USAGE_INVALID,
        f"{len(details)} event(s) are invalid; nothing was stored.",
        param="events",
        details=details,
    )


def _tables() -> dict[str, str]:
    return {
        "license": License._meta.db_table,
        "license_works": License.works.through._meta.db_table,
        "version": OfferVersion._meta.db_table,
        "offer": Offer._meta.db_table,
        "work": Work._meta.db_table,
        "key": UsageEventKey._meta.db_table,
        "event": UsageEvent._meta.db_table,
    }


@functools.cache
def _key_sequence() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [UsageEventKey._meta.db_table])
        return cursor.fetchone()[0].replace("'", "''")


def _staging_create(cursor: Any, postgresql: bool) -> None:
    # Temporary tables live per connection; DELETE, because inside an outer
    # transaction (a test's) PostgreSQL's ON COMMIT DELETE ROWS has not run yet.
    time, suffix = ("timestamptz", " ON COMMIT DELETE ROWS") if postgresql else ("text", "")
    # On PostgreSQL COPY draws each row's key id from the keys' sequence, row by row
    # in the batch's order: ids follow the batch without a sort (a duplicate's or a
    # refused batch's id is a gap, never reused).
    key_id = f" DEFAULT nextval('{_key_sequence()}'::regclass)" if postgresql else ""
    cursor.execute(
        "CREATE TEMPORARY TABLE IF NOT EXISTS usage_staging (idx integer, event_id text,"
        " license_ref text, work_kind text, work_value text, unit text, units bigint,"
        f" occurred_at {time}, period text, model text, first boolean, key_id bigint{key_id})"
        f"{suffix}"
    )
    cursor.execute(
        "CREATE TEMPORARY TABLE IF NOT EXISTS usage_resolved (idx integer, event_id text,"
        " license_id bigint, work_id bigint, use text, unit text, units bigint,"
        f" occurred_at {time}, period text, flag text, model text, problem text,"
        f" allowed_unit text, first boolean, key_id bigint){suffix}"
    )
    cursor.execute("DELETE FROM usage_staging")
    cursor.execute("DELETE FROM usage_resolved")
    if not postgresql:
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS usage_fresh (id integer, event_id text)"
        )
        cursor.execute("DELETE FROM usage_fresh")


def _stage(cursor: Any, rows: list[tuple], postgresql: bool) -> None:
    columns = ", ".join(_STAGED)
    if postgresql:
        raw = cursor.cursor  # psycopg 3's own cursor: COPY
        with raw.copy(f"COPY usage_staging ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        placeholders = ", ".join(["%s"] * len(_STAGED))
        cursor.executemany(f"INSERT INTO usage_staging ({columns}) VALUES ({placeholders})", rows)


def _works_union(t: dict[str, str], kinds: set[str]) -> str:
    """The works the batch names, one row per (kind of reference, value): set-based.

    A branch only for the kinds the batch uses: each one scans the staging table.
    """
    return " UNION ALL ".join(
        f"SELECT '{kind}' AS kind, {kind} AS value, id, reserved FROM {t['work']}"
        f" WHERE {kind} IN (SELECT work_value FROM usage_staging WHERE work_kind = '{kind}')"
        for kind in WORK_REFERENCE_KINDS
        if kind in kinds
    )


def _resolve(cursor: Any, organization_id: int, at: Any, kinds: set[str]) -> None:
    """Fill `usage_resolved` from `usage_staging` in one statement."""
    t = _tables()
    pricing = OfferVersion.Pricing
    cursor.execute(
        f"""
        INSERT INTO usage_resolved (idx, event_id, license_id, work_id, use, unit, units,
            occurred_at, period, flag, model, problem, allowed_unit, first, key_id)
        SELECT s.idx, s.event_id, l.id, w.id, o.use, s.unit, s.units, s.occurred_at, s.period,
            CASE WHEN w.reserved THEN %(reserved)s
                 WHEN lw.work_id IS NULL THEN %(unlicensed)s
                 WHEN s.occurred_at < l.starts_at
                      OR (l.ends_at IS NOT NULL AND s.occurred_at >= l.ends_at)
                 THEN %(out_of_term)s END,
            s.model,
            CASE WHEN l.id IS NULL THEN 'license'
                 WHEN w.id IS NULL THEN 'work'
                 WHEN v.pricing = %(per_unit)s AND v.unit IS NOT NULL AND s.unit <> v.unit
                      THEN 'unit'
                 WHEN v.pricing = %(pool)s AND s.unit <> COALESCE(v.unit, %(item)s) THEN 'unit'
                 WHEN s.occurred_at > %(at)s THEN 'future' END,
            CASE WHEN v.pricing = %(pool)s THEN COALESCE(v.unit, %(item)s) ELSE v.unit END,
            s.first, s.key_id
        FROM usage_staging s
        LEFT JOIN {t["license"]} l ON l.organization_id = %(org)s
            AND l.public_id = s.license_ref AND l.status <> %(revoked)s
        LEFT JOIN {t["version"]} v ON v.id = l.offer_version_id
        LEFT JOIN {t["offer"]} o ON o.id = v.offer_id
        LEFT JOIN ({_works_union(t, kinds)}) w ON w.kind = s.work_kind AND w.value = s.work_value
        LEFT JOIN {t["license_works"]} lw ON lw.license_id = l.id AND lw.work_id = w.id
        """,
        {
            "org": organization_id, "at": at, "revoked": License.Status.REVOKED,
            "reserved": UsageFlag.RESERVED, "unlicensed": UsageFlag.UNLICENSED,
            "out_of_term": UsageFlag.OUT_OF_TERM, "per_unit": pricing.PER_UNIT,
            "pool": pricing.POOL, "item": OfferVersion.Unit.ITEM,
        },
    )  # fmt: skip


def _problems(cursor: Any) -> list[dict[str, Any]]:
    cursor.execute(
        "SELECT idx, problem, allowed_unit FROM usage_resolved"
        " WHERE problem IS NOT NULL ORDER BY idx"
    )
    details = []
    for index, problem, allowed_unit in cursor.fetchall():
        if problem == "unit":
            param, code, message = (
                "unit",
                "unit_mismatch",
                (f"This license's usage is declared in {allowed_unit}."),
            )
        else:
            param, code, message = _PROBLEMS[problem]
        details.append({"index": index, "param": param, "code": code, "message": message})
    return details


def _store_postgresql(cursor: Any, organization_id: int, at: dt.datetime) -> Counter:
    t = _tables()
    columns = ", ".join(_STORED)
    cursor.execute(
        f"""
        WITH keys AS (
            -- Inserted in event-id order (bytewise: a cheap sort, the same in every
            -- request): two requests sharing ids take the unique index's locks in the
            -- same order, so they wait for each other, never deadlock.
            INSERT INTO {t["key"]}
                (id, organization_id, event_id, occurred_at, period, created_at)
            SELECT key_id, %(org)s, event_id, occurred_at, period, %(at)s
            FROM usage_resolved WHERE first ORDER BY event_id COLLATE "C"
            ON CONFLICT (organization_id, event_id) DO NOTHING
            RETURNING id
        ), stored AS (
            INSERT INTO {t["event"]} (id, organization_id, {columns}, corrections_count, created_at)
            SELECT keys.id, %(org)s, {", ".join("r." + c for c in _STORED)}, 0, %(at)s
            FROM keys JOIN usage_resolved r ON r.key_id = keys.id
            RETURNING flag
        )
        SELECT flag, count(*) FROM stored GROUP BY flag
        """,
        {"org": organization_id, "at": at},
    )
    return Counter(dict(cursor.fetchall()))


def _store_sqlite(cursor: Any, organization_id: int, at: Any) -> Counter:
    t = _tables()
    firsts = "first"  # the first occurrence of each id in the batch (_staged_rows)
    # The WHERE is needed: SQLite would read "ON CONFLICT" after a bare FROM as a join.
    cursor.execute(
        f"INSERT INTO {t['key']} (organization_id, event_id, occurred_at, period, created_at)"
        f" SELECT %s, event_id, occurred_at, period, %s FROM usage_resolved WHERE {firsts}"
        " ORDER BY idx ON CONFLICT (organization_id, event_id) DO NOTHING RETURNING id, event_id",
        [organization_id, at],
    )
    cursor.executemany("INSERT INTO usage_fresh (id, event_id) VALUES (%s, %s)", cursor.fetchall())
    columns = ", ".join(_STORED)
    cursor.execute(
        f"INSERT INTO {t['event']} (id, organization_id, {columns}, corrections_count, created_at)"
        f" SELECT f.id, %s, {', '.join('r.' + c for c in _STORED)}, 0, %s"
        f" FROM usage_fresh f JOIN usage_resolved r ON r.event_id = f.event_id WHERE r.{firsts}"
        " RETURNING flag",
        [organization_id, at],
    )
    return Counter(row[0] for row in cursor.fetchall())


def _staged_rows(events: list, postgresql: bool) -> list[tuple]:
    adapt = connection.ops.adapt_datetimefield_value
    rows, seen = [], set()
    for index, (event, (kind, value)) in enumerate(events):
        utc = event.occurred_at.astimezone(dt.UTC)
        # Within a batch the first occurrence of an id wins: marked here, in one pass,
        # instead of a DISTINCT ON sort in the database.
        first = event.id not in seen
        seen.add(event.id)
        rows.append(
            (index, event.id, event.license, kind, value, event.unit, event.units,
             utc if postgresql else adapt(utc), f"{utc.year:04d}-{utc.month:02d}",
             event.model or "", first)
        )  # fmt: skip
    return rows


def usage_ingest(*, organization: Any, events: list, at: dt.datetime | None = None) -> UsageReceipt:
    """Store a batch of decoded events for the organisation; raise usage_invalid if any is bad.

    `events` are `(EventInput, work reference)` pairs from `licensing.api.usage_decode`;
    `at` is the business time the "not in the future" rule reads (default now).
    """
    at = at or timezone.now()
    postgresql = connection.vendor == "postgresql"
    rows = _staged_rows(events, postgresql)
    # Partitions are made before the transaction (their DDL locks the parent table):
    # for the months of the events that can be stored, never of future ones.
    usage_partitions_ensure(
        periods={
            row[8] for row, (event, _) in zip(rows, events, strict=True) if event.occurred_at <= at
        }
    )
    sql_at = at if postgresql else connection.ops.adapt_datetimefield_value(at)
    periods = {row[8] for row in rows}
    with transaction.atomic(), connection.cursor() as cursor:
        # A close committing between our read of it and our write would strand the
        # events in a month its run has read (usage_period_locks).
        usage_periods_lock(periods=periods)
        closed = set(
            UsagePeriod.objects.filter(period__in=periods).values_list("period", flat=True)
        )
        # SQLite has one writer at a time: the ids known before this insert are the
        # duplicates (its stored times do not compare equal to `at` as PostgreSQL's do).
        known = None
        if closed and not postgresql:
            known = set(
                UsageEventKey.objects.filter(
                    organization_id=organization.pk, event_id__in={row[1] for row in rows}
                ).values_list("event_id", flat=True)
            )
        _staging_create(cursor, postgresql)
        _stage(cursor, rows, postgresql)
        _resolve(cursor, organization.pk, sql_at, {row[3] for row in rows} or {"public_id"})
        details = _problems(cursor)
        if details:
            raise usage_invalid(details)
        if postgresql:
            # SQLite has one writer at a time: nothing can delete them meanwhile.
            usage_references_lock(cursor=cursor, organization_id=organization.pk)
        store = _store_postgresql if postgresql else _store_sqlite
        stored = store(cursor, organization.pk, sql_at)
        if closed:
            _late_book(organization.pk, rows, at, closed, known)
    receipt = UsageReceipt(
        accepted=sum(stored.values()), duplicates=len(rows) - sum(stored.values())
    )
    for flag, count in stored.items():
        if flag is not None:
            receipt.flagged[flag] = count
    return receipt


def _late_book(
    organization_id: int, rows: list[tuple], at: dt.datetime, closed: set, known: set | None
) -> None:
    """Book events stored now for a closed period into the next open one (`late`).

    The period's run has read its usage already: without this an event declared after
    the close would be stored and never rated. The event keeps its own period (its
    facts); the `late` row carries its units into the month that will rate them.
    """
    late_ids = [row[1] for row in rows if row[8] in closed]
    # A flagged event is never rated, late or not.
    fresh = UsageEvent.objects.filter(
        organization_id=organization_id, period__in=closed, event_id__in=late_ids, flag__isnull=True
    )
    # On PostgreSQL this request's rows carry its `at` and a duplicate of an older one
    # does not; on SQLite the ids known before the insert are the duplicates.
    fresh = fresh.filter(created_at=at) if known is None else fresh.exclude(event_id__in=known)
    fresh = fresh.only("id", "license_id", "work_id", "units", "period")
    next_open: dict[str, str] = {}
    UsageCorrection.objects.bulk_create(
        [
            UsageCorrection(
                key_id=event.pk, organization_id=organization_id, license_id=event.license_id,
                work_id=event.work_id, kind=UsageCorrection.Kind.LATE,
                event_period=event.period,
                period=next_open.setdefault(
                    event.period, usage_period_next_open(period=event.period)
                ),
                units_before=0, units_after=event.units, units_delta=event.units,
                reason="declared after its period was closed", created_at=at,
            )
            for event in fresh
        ]
    )  # fmt: skip
