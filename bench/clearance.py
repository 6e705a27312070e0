"""Benchmark a dataset clearance on PostgreSQL against one plain SQL join; JSON last.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/accord_bench_clearance \
        python -m bench.clearance [--works 1000000] [--items 100000] [--rounds 5]

The database named in DATABASE_URL is dropped and created again (it must not be one
you keep anything in). The catalogue is written with plain SQL (`generate_series`):
`--works` works with a SHA-256 each, one work in 50 reserved, a flat offer of the use
on nine works in ten, and collections of 100 works with a pool offer on every tenth.

Measured, in alternating rounds whose medians are reported:
- `clearance_s`: `clearance_create` for a manifest of `--items` identifiers (90%
  registered works, 10% unknown digests, one in twenty upper-cased, a few
  repeated), the service the API and `clearance_check` call: normalise, match,
  choose the cheapest offer, find licenses held, write the clearance and its items;
- `join_s`: the ceiling, one SQL join of the same (normalised, distinct) digests
  against the works table sent with plain psycopg: `unnest(%s) JOIN work ON sha256`.

Target on the 2-core development machine: `ratio` = clearance_s / join_s at most 3,
and clearance_s under 10 s at 100,000 identifiers against 1,000,000 works.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time

import psycopg

from bench._database import database_recreate

TARGETS = {"ratio_max": 3.0, "clearance_s_max": 10.0}
USE = "ai-train"


def _say(message: str) -> None:
    print(message, flush=True)


def _parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.clearance", description=__doc__)
    parser.add_argument("--works", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    return parser.parse_args(argv)


def _django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _digest_sql(number: str) -> str:
    return f"encode(sha256(convert_to('bench-' || {number}, 'UTF8')), 'hex')"


def _catalogue_load(works: int) -> None:
    """The catalogue in a few INSERT ... SELECT statements: the services would take hours."""
    from django.db import connection

    from licensing.models import Collection, Offer, OfferVersion, Work
    from licensing.services.creators import creator_create

    creator = creator_create(username="bench-creator", password=None)
    work, offer, version = Work._meta.db_table, Offer._meta.db_table, OfferVersion._meta.db_table
    collection, members = Collection._meta.db_table, Collection.works.through._meta.db_table
    statements = [
        f"INSERT INTO {work} (public_id, creator_id, title, kind, sha256, reserved,"
        f" created_at, updated_at) SELECT 'wrk_b' || i, {creator.pk}, 'Work ' || i, 'text',"
        f" {_digest_sql('i')}, i % 50 = 0, now(), now() FROM generate_series(1, {works}) i",
        f"INSERT INTO {collection} (public_id, creator_id, title, created_at, updated_at)"
        f" SELECT 'col_b' || c, {creator.pk}, 'Collection ' || c, now(), now()"
        f" FROM generate_series(1, {max(1, works // 1000)}) c",
        # Every tenth collection's 100 works (1% of the catalogue) are in a pool.
        f"INSERT INTO {members} (collection_id, work_id) SELECT col.id, w.id FROM {collection}"
        f" col JOIN {work} w ON w.id BETWEEN (col.id - 1) * 1000 + 1 AND (col.id - 1) * 1000 + 100"
        f" WHERE col.id % 10 = 1",
        f"INSERT INTO {offer} (public_id, creator_id, work_id, use, status, created_at,"
        f" updated_at) SELECT 'off_b' || w.id, {creator.pk}, w.id, '{USE}', 'active', now(),"
        f" now() FROM {work} w WHERE w.id % 10 <> 0 AND NOT w.reserved",
        f"INSERT INTO {offer} (public_id, creator_id, collection_id, use, status, created_at,"
        f" updated_at) SELECT 'off_p' || col.id, {creator.pk}, col.id, '{USE}', 'active',"
        f" now(), now() FROM {collection} col WHERE col.id % 10 = 1",
        f"INSERT INTO {version} (public_id, offer_id, version, pricing, currency, amount,"
        f" term_days, attribution_required, commercial, created_at) SELECT 'ofv_b' || o.id,"
        f" o.id, 1, CASE WHEN o.collection_id IS NULL THEN 'flat' ELSE 'pool' END, 'eur',"
        f" CASE WHEN o.collection_id IS NULL THEN 100 + o.id % 900 ELSE 50000 END, 365,"
        f" false, true, now() FROM {offer} o",
        f"UPDATE {offer} o SET current_version_id = v.id FROM {version} v WHERE v.offer_id = o.id",
        f"ANALYZE {work}; ANALYZE {offer}; ANALYZE {version}; ANALYZE {members}",
    ]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _manifest(works: int, items: int, seed: int) -> list[str]:
    """Registered digests (sampled), unknown ones, some upper case, a few repeated."""
    import hashlib

    chooser = random.Random(seed)
    known = chooser.sample(range(1, works + 1), min(works, int(items * 0.9)))
    digests = [hashlib.sha256(f"bench-{number}".encode()).hexdigest() for number in known]
    digests += [hashlib.sha256(f"unknown-{seed}-{n}".encode()).hexdigest() for n in range(items)]
    digests = digests[: items - items // 100]
    manifest = [
        ("sha256:" + d.upper()) if n % 20 == 0 else "sha256:" + d for n, d in enumerate(digests)
    ]
    manifest += manifest[: items - len(manifest)]  # 1% repeated
    chooser.shuffle(manifest)
    return manifest


def _join_seconds(url: str, digests: list[str]) -> float:
    """The ceiling: the same digests joined to the works table, and the rows fetched."""
    from licensing.models import Work

    sql = (
        f"SELECT w.id, w.reserved FROM unnest(%s::text[]) AS m(sha256)"
        f" JOIN {Work._meta.db_table} w ON w.sha256 = m.sha256"
    )
    with psycopg.connect(url) as connection:
        began = time.perf_counter()
        rows = connection.execute(sql, [digests]).fetchall()
        elapsed = time.perf_counter() - began
    assert rows, "the join found nothing: the manifest does not match the catalogue"
    return elapsed


def main(argv: list[str] | None = None) -> None:
    options = _parse(argv)
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("set DATABASE_URL=postgres://.../accord_bench_clearance (a database this drops)")
    began = time.perf_counter()
    _say(f"clearance benchmark: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    database_recreate(url)
    _django_setup()
    _catalogue_load(options.works)
    _say(f"catalogue: {options.works:,} works loaded in {time.perf_counter() - began:.1f} s")

    from licensing.services.clearances import clearance_create, identifiers_normalize
    from licensing.services.organizations import organization_create

    organization = organization_create(slug="bench-lab", billing="invoice", currency="eur")
    clearance_times, join_times, clearance = [], [], None
    for round_number in range(options.rounds):
        manifest = _manifest(options.works, options.items, seed=round_number)
        digests = [value for _, value in identifiers_normalize(manifest)]
        join_times.append(_join_seconds(url, digests))
        started = time.perf_counter()
        clearance = clearance_create(organization=organization, use=USE, items=manifest)
        clearance_times.append(time.perf_counter() - started)
        _say(
            f"round {round_number + 1}: clearance {clearance_times[-1]:.2f} s,"
            f" join {join_times[-1]:.3f} s, {clearance.items_count:,} items"
        )
    clearance_s, join_s = statistics.median(clearance_times), statistics.median(join_times)
    counts = {s: getattr(clearance, f"{s}_count") for s in ("licensable", "reserved", "unknown")}
    _say(f"last clearance: {counts}, quote {clearance.quote_amount:,} eur minor units")
    ratio = clearance_s / join_s
    figures = {
        "clearance_s": round(clearance_s, 3),
        "join_s": round(join_s, 3),
        "ratio": round(ratio, 2),
        "items": clearance.items_count,
        "identifiers": options.items,
        "works": options.works,
        "rounds": options.rounds,
        "clearance_rounds_s": [round(seconds, 3) for seconds in clearance_times],
        "join_rounds_s": [round(seconds, 3) for seconds in join_times],
        "counts": counts,
        "targets": TARGETS,
        "met": {
            "ratio": ratio <= TARGETS["ratio_max"],
            "clearance_s": clearance_s < TARGETS["clearance_s_max"],
        },
        "cpus": os.cpu_count(),
        "load_average_end": round(os.getloadavg()[0], 2),
        "runtime_s": round(time.perf_counter() - began, 1),
    }
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
