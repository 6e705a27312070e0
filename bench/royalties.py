"""Benchmark a full royalty run (compute and post) against one SQL GROUP BY; JSON last.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/accord_bench_royalties \
        python -m bench.royalties --events 1000000 [--rounds 3]

The database named in DATABASE_URL is dropped and created again. The catalogue (works,
creators, licenses: per-unit and pool, each license on `--works-per-license` works) is
bulk-created, the events inserted with one `INSERT … SELECT generate_series` into the
usage tables, `--events` in each of `--rounds` months from January 2026. Each round
times, for its month, the ceiling (a single `GROUP BY license, work` over the same
events, the median of three, so the cache is as warm as the run finds it) and the
run (`royalty_run_compute` then `royalty_run_post`, committed, in this process,
which plays the worker; its peak RSS is `worker_rss_mb`). The JSON gives the
medians over the rounds, each round and the load average (the machine is shared).
Targets (issue 15): the run within 5x the GROUP BY and under 60 s at 1,000,000
events, memory bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bench._database import database_recreate


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _catalogue(args):
    from licensing.models import (
        License,
        Offer,
        OfferVersion,
        RightsShare,
        Work,
    )
    from licensing.services.creators import creator_create
    from licensing.services.organizations import organization_create

    pool_days = 60 * args.rounds  # every period of the benchmark in the pools' term
    organization = organization_create(slug="bench-lab", name="Bench Lab", billing="invoice")
    owner = creator_create(username="bench-owner", password=None)
    creators = [owner]
    for n in range(args.creators - 1):  # each creator has a login; the services make it
        creators.append(creator_create(username=f"bench-c{n}", password=None))
    works = Work.objects.bulk_create(
        Work(creator=creators[n % len(creators)], title=f"w{n}", kind="text")
        for n in range(args.works)
    )
    RightsShare.objects.bulk_create(
        RightsShare(work=work, creator=work.creator, basis_points=10_000) for work in works
    )
    offer = Offer.objects.create(creator=owner, work=works[0], use="ai-eval", status="active")
    per_unit = OfferVersion.objects.create(
        offer=offer,
        version=1,
        pricing="per_unit",
        currency="eur",
        unit="token",
        unit_amount_decimal=Decimal("0.042"),
        minimum_amount=100,
    )
    pool = OfferVersion.objects.create(
        offer=offer,
        version=2,
        pricing="pool",
        currency="eur",
        amount=300_000,
        term_days=pool_days,
        unit="item",
    )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    licenses = License.objects.bulk_create(
        License(
            organization=organization,
            offer_version=pool if n % 5 == 0 else per_unit,
            starts_at=start,
            ends_at=start + timedelta(days=pool_days) if n % 5 == 0 else None,
            amount=300_000 if n % 5 == 0 else 0,
            currency="eur",
            commission_basis_points=1000,
            certificate="bench",
        )
        for n in range(args.licenses)
    )
    through = License.works.through
    through.objects.bulk_create(
        through(license=license, work=works[(n * args.works_per_license + k) % len(works)])
        for n, license in enumerate(licenses)
        for k in range(args.works_per_license)
    )
    return organization, licenses


def _periods(rounds: int) -> list[str]:
    return [f"2026-{month:02d}" for month in range(1, rounds + 1)]


def _events(args, organization, licenses, period: str) -> None:
    """The period's events, spread over its seconds, each license's works in turn."""
    from django.db import connection

    from licensing.services.usage_partitions import usage_partitions_ensure
    from payouts.periods import period_window

    usage_partitions_ensure(periods=[period])
    start, end = period_window(period)
    seconds = int((end - start).total_seconds())
    first_license, wpl = licenses[0].pk, args.works_per_license
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO licensing_usageeventkey (organization_id, event_id, occurred_at, period,"
            " created_at) SELECT %s, %s || n, %s + (n %% %s) * interval '1 second', %s, now()"
            " FROM generate_series(1, %s) n",
            [organization.pk, f"e{period}-", start, seconds, period, args.events],
        )
        cursor.execute(
            "INSERT INTO licensing_usageevent (id, organization_id, event_id, license_id, work_id,"
            " use, unit, units, occurred_at, period, model, corrections_count, created_at)"
            " SELECT k.id, k.organization_id, k.event_id, l.license_id, l.work_id, 'ai-eval',"
            " 'token', 1 + k.id %% 1000, k.occurred_at, k.period, '', 0, now()"
            " FROM licensing_usageeventkey k JOIN LATERAL (SELECT license_id, work_id FROM"
            " licensing_license_works WHERE license_id = %s + (k.id %% %s) ORDER BY work_id"
            " OFFSET (k.id / %s) %% %s LIMIT 1) l ON true WHERE k.period = %s",
            [first_license, len(licenses), len(licenses), wpl, period],
        )
        cursor.execute("ANALYZE licensing_usageevent")


def _group_by_s(period: str, repeats: int = 3) -> float:
    """The ceiling: one GROUP BY over the period's rated events, the median of `repeats`."""
    from django.db import connection

    timings = []
    for _ in range(repeats):
        began = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT license_id, work_id, sum(units) FROM licensing_usageevent"
                " WHERE period = %s AND flag IS NULL GROUP BY license_id, work_id",
                [period],
            )
            cursor.fetchall()
        timings.append(time.perf_counter() - began)
    return statistics.median(timings)


def _run_s(period: str, users: list) -> tuple[float, float, object]:
    """Compute, approve and post the period's run, in this process (the worker)."""
    from payouts.models import RoyaltyRun
    from payouts.services.royalty_posting import royalty_run_post
    from payouts.services.royalty_runs import royalty_run_approve, royalty_run_compute

    began = time.perf_counter()
    run = royalty_run_compute(run_id=RoyaltyRun.objects.create(period=period).pk)
    assert run.status == RoyaltyRun.Status.COMPUTED, run.failure_reason
    compute_s = time.perf_counter() - began
    royalty_run_approve(run=run, user=users[0])
    run.refresh_from_db()
    if run.status != RoyaltyRun.Status.APPROVED:  # above the four-eyes limit
        royalty_run_approve(run=run, user=users[1])
    run = royalty_run_post(run_id=run.pk)
    run_s = time.perf_counter() - began
    assert run.status == RoyaltyRun.Status.POSTED
    return run_s, compute_s, run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="per period")
    parser.add_argument("--works", type=int, default=10_000)
    parser.add_argument("--creators", type=int, default=2_000)
    parser.add_argument("--licenses", type=int, default=500)
    parser.add_argument("--works-per-license", type=int, default=20)
    parser.add_argument(
        "--rounds", type=int, default=1, help="periods, each with --events events and its run"
    )
    args = parser.parse_args()
    assert 1 <= args.rounds <= 12, "one period a round, within 2026"
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("set DATABASE_URL to a scratch PostgreSQL database")
    database_recreate(url)
    _setup()
    from licensing.services.creators import finance_user_create

    organization, licenses = _catalogue(args)
    periods = _periods(args.rounds)
    began = time.perf_counter()
    for period in periods:
        _events(args, organization, licenses, period)
    print(
        f"loaded {args.events:,} events in each of {len(periods)} periods"
        f" in {time.perf_counter() - began:.1f} s",
        flush=True,
    )
    users = [finance_user_create(username=f"bench-finance-{n}") for n in (1, 2)]
    rounds = []
    for period in periods:
        group_by_s = _group_by_s(period)
        run_s, compute_s, run = _run_s(period, users)
        rounds.append(
            {
                "period": period,
                "run_s": round(run_s, 3),
                "compute_s": round(compute_s, 3),
                "group_by_s": round(group_by_s, 3),
                "ratio": round(run_s / group_by_s, 2),
                "lines": run.lines.count(),
                "transactions": run.licenses_posted,
                "load_avg_1m": round(os.getloadavg()[0], 2),
            }
        )
        print(
            f"{period}: GROUP BY {group_by_s:.2f} s; run: compute {compute_s:.2f} s,"
            f" total {run_s:.2f} s ({run_s / group_by_s:.1f}x), {rounds[-1]['lines']:,} lines,"
            f" {run.licenses_posted} transactions; load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process (the worker) {rss_mb:.0f} MB", flush=True)

    def median(key: str) -> float:
        return round(statistics.median(round_[key] for round_ in rounds), 3)

    print(
        json.dumps(
            {
                "events": args.events,
                "rounds": len(rounds),
                "run_s": median("run_s"),
                "compute_s": median("compute_s"),
                "group_by_s": median("group_by_s"),
                "ratio": median("ratio"),
                "worker_rss_mb": round(rss_mb, 1),
                "lines": rounds[-1]["lines"],
                "transactions": rounds[-1]["transactions"],
                "load_avg": [round(load, 2) for load in os.getloadavg()],
                "per_round": rounds,
            }
        )
    )


if __name__ == "__main__":
    main()
