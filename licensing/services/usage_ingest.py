"""Ingest a batch of usage events: resolve, flag, deduplicate, store — all or nothing.

Resolution reads each entity once per batch (one query for the batch's licenses, one
per kind of work reference, one for which of those works each license covers), never
once per event. The write is set-based: on PostgreSQL the rows are loaded with `COPY`
into a temporary staging table, and one statement inserts the dedup keys (`ON
CONFLICT DO NOTHING`, so an id already stored — by an earlier batch or by a
concurrent request that committed first — is a duplicate) and, for the keys it
inserted, the events. On SQLite the same keys go in with one `INSERT … RETURNING` and
the events with one `executemany`. Within a batch the first occurrence of an id wins.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from licensing.errors import LicensingError, LicensingErrorCode
from licensing.models import License, OfferVersion, Work
from licensing.models.usage import (
    UsageCorrection,
    UsageEvent,
    UsageEventKey,
    UsageFlag,
    UsagePeriod,
)
from licensing.periods import period_of
from licensing.selectors.usage import usage_period_next_open
from licensing.services.usage_partitions import usage_partitions_ensure
from licensing.services.usage_period_locks import usage_periods_lock

USAGE_INVALID = LicensingErrorCode.USAGE_INVALID
_COLUMNS = (
    "event_id", "license_id", "work_id", "use", "unit", "units", "occurred_at", "period", "flag",
    "model",
)  # fmt: skip


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


def _licenses(organization: Any, references: set[str]) -> dict[str, License]:
    found = License.objects.filter(organization=organization, public_id__in=references)
    return {lic.public_id: lic for lic in found.select_related("offer_version__offer")}


def _works(references: set[tuple[str, str]]) -> dict[tuple[str, str], Work]:
    by_kind: dict[str, list[str]] = {}
    for kind, value in references:
        by_kind.setdefault(kind, []).append(value)
    condition = Q(pk__in=[])
    for kind, values in by_kind.items():
        condition |= Q(**{f"{kind}__in": values})
    found: dict[tuple[str, str], Work] = {}
    for work in Work.objects.filter(condition).only("id", "reserved", "public_id", *by_kind):
        for kind in by_kind:
            found[(kind, getattr(work, kind))] = work
    return found


def _covered(licenses: list[License], works: list[Work]) -> set[tuple[int, int]]:
    through = License.works.through
    pairs = through.objects.filter(license__in=licenses, work__in=works)
    return set(pairs.values_list("license_id", "work_id"))


def _allowed_unit(version: OfferVersion) -> str | None:
    """The unit a license's events must use; None: any (flat licenses rate nothing)."""
    if version.pricing == OfferVersion.Pricing.PER_UNIT:
        return version.unit
    if version.pricing == OfferVersion.Pricing.POOL:
        return version.unit or OfferVersion.Unit.ITEM
    return None


def _flag(lic: License, work: Work, covered: set, occurred_at: dt.datetime) -> str | None:
    if work.reserved:
        return UsageFlag.RESERVED
    if (lic.pk, work.pk) not in covered:
        return UsageFlag.UNLICENSED
    if occurred_at < lic.starts_at or (lic.ends_at is not None and occurred_at >= lic.ends_at):
        return UsageFlag.OUT_OF_TERM
    return None


def _detail(index: int, param: str, code: str, message: str) -> dict[str, Any]:
    return {"index": index, "param": param, "code": code, "message": message}


def _resolve(organization: Any, events: list, at: dt.datetime) -> list[tuple]:
    """Return one row per event in `_COLUMNS` order, or raise usage_invalid."""
    licenses = _licenses(organization, {event.license for event, _ in events})
    works = _works({reference for _, reference in events})
    covered = _covered(list(licenses.values()), list({w.pk: w for w in works.values()}.values()))
    rows, details = [], []
    for index, (event, reference) in enumerate(events):
        lic, work = licenses.get(event.license), works.get(reference)
        if lic is None or lic.status == License.Status.REVOKED:
            # Unknown, another organisation's or revoked: told apart from nothing else.
            details.append(_detail(index, "license", "license_unknown", "No such license."))
            continue
        if work is None:
            details.append(_detail(index, "work", "work_unknown", "No such work."))
            continue
        unit = _allowed_unit(lic.offer_version)
        if unit is not None and event.unit != unit:
            message = f"This license's usage is declared in {unit}."
            details.append(_detail(index, "unit", "unit_mismatch", message))
            continue
        if event.occurred_at > at:
            details.append(_detail(index, "occurred_at", "occurred_in_future", "In the future."))
            continue
        occurred_at = event.occurred_at.astimezone(dt.UTC)
        rows.append(
            (event.id, lic.pk, work.pk, lic.offer_version.offer.use, event.unit, event.units,
             occurred_at, period_of(occurred_at), _flag(lic, work, covered, occurred_at),
             event.model or "")
        )  # fmt: skip
    if details:
        raise usage_invalid(details)
    return rows


def usage_ingest(*, organization: Any, events: list, at: dt.datetime | None = None) -> UsageReceipt:
    """Store a batch of decoded events for the organisation; raise usage_invalid if any is bad.

    `events` are `(EventInput, work reference)` pairs from `licensing.api.usage_decode`;
    `at` is the business time the "not in the future" rule reads (default now).
    """
    at = at or timezone.now()
    rows = _resolve(organization, events, at)
    usage_partitions_ensure(periods={row[7] for row in rows})
    with transaction.atomic():
        periods = {row[7] for row in rows}
        usage_periods_lock(periods=periods)
        closed = set(
            UsagePeriod.objects.filter(period__in=periods).values_list("period", flat=True)
        )
        # SQLite has one writer at a time: the ids known before this insert are the
        # duplicates (its stored times do not compare equal to `at` as PostgreSQL's do).
        known = None
        if closed and connection.vendor != "postgresql":
            known = set(
                UsageEventKey.objects.filter(
                    organization_id=organization.pk, event_id__in={row[0] for row in rows}
                ).values_list("event_id", flat=True)
            )
        if connection.vendor == "postgresql":
            stored = _store_postgresql(organization.pk, rows, at)
        else:
            stored = _store_portable(organization.pk, rows, at)
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
    late_ids = [row[0] for row in rows if row[7] in closed and row[8] is None]
    if not late_ids:
        return
    fresh = UsageEvent.objects.filter(organization_id=organization_id, event_id__in=late_ids)
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


def _store_postgresql(organization_id: int, rows: list[tuple], at: dt.datetime) -> Counter:
    key_table, event_table = UsageEventKey._meta.db_table, UsageEvent._meta.db_table
    columns = ", ".join(_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS usage_staging (idx int, event_id text,"
            " license_id bigint, work_id bigint, use text, unit text, units bigint,"
            " occurred_at timestamptz, period text, flag text, model text) ON COMMIT DELETE ROWS"
        )
        raw = cursor.cursor  # psycopg 3's own cursor: COPY
        with raw.copy(f"COPY usage_staging (idx, {columns}) FROM STDIN") as copy:
            for index, row in enumerate(rows):
                copy.write_row((index, *row))
        cursor.execute(
            f"""
            WITH firsts AS (
                SELECT DISTINCT ON (event_id) * FROM usage_staging ORDER BY event_id, idx
            ), keys AS (
                INSERT INTO {key_table} (organization_id, event_id, occurred_at, period, created_at)
                SELECT %(org)s, event_id, occurred_at, period, %(at)s FROM firsts
                ON CONFLICT (organization_id, event_id) DO NOTHING
                RETURNING id, event_id
            ), stored AS (
                INSERT INTO {event_table}
                    (id, organization_id, {columns}, corrections_count, created_at)
                SELECT keys.id, %(org)s, {", ".join("f." + c for c in _COLUMNS)}, 0, %(at)s
                FROM keys JOIN firsts f USING (event_id)
                RETURNING flag
            )
            SELECT flag, count(*) FROM stored GROUP BY flag
            """,
            {"org": organization_id, "at": at},
        )
        return Counter(dict(cursor.fetchall()))


def _store_portable(organization_id: int, rows: list[tuple], at: dt.datetime) -> Counter:
    firsts: dict[str, tuple] = {}
    for row in rows:
        firsts.setdefault(row[0], row)
    key_table, event_table = UsageEventKey._meta.db_table, UsageEvent._meta.db_table
    with connection.cursor() as cursor:
        existing: set[str] = set()
        ids = list(firsts)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            cursor.execute(
                f"SELECT event_id FROM {key_table} WHERE organization_id = %s"
                f" AND event_id IN ({', '.join(['%s'] * len(chunk))})",
                [organization_id, *chunk],
            )
            existing.update(row[0] for row in cursor.fetchall())
        fresh = [row for event_id, row in firsts.items() if event_id not in existing]
        cursor.executemany(
            f"INSERT INTO {key_table} (organization_id, event_id, occurred_at, period, created_at)"
            " VALUES (%s, %s, %s, %s, %s)",
            [(organization_id, row[0], row[6], row[7], at) for row in fresh],
        )
        if fresh:
            cursor.execute(
                f"SELECT id, event_id FROM {key_table} WHERE organization_id = %s AND id >"
                f" (SELECT max(id) FROM {key_table}) - %s",
                [organization_id, len(fresh)],
            )
            key_ids = dict((event_id, pk) for pk, event_id in cursor.fetchall())
            cursor.executemany(
                f"INSERT INTO {event_table} (id, organization_id, {', '.join(_COLUMNS)},"
                f" corrections_count, created_at) VALUES ({', '.join(['%s'] * 14)})",
                [(key_ids[row[0]], organization_id, *row, 0, at) for row in fresh],
            )
    return Counter(row[8] for row in fresh)
