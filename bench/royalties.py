"""Benchmark a full royalty run (compute and post) against one SQL GROUP BY; JSON last.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/accord_bench_royalties \
        python -m bench.royalties --events 1000000

The database named in DATABASE_URL is dropped and created again. The catalogue (works,
creators, licenses: per-unit and pool, each license on `--works-per-license` works) is
bulk-created, the events inserted with one `INSERT … SELECT generate_series` into the
usage tables, then timed: the ceiling (a single `GROUP BY license, work` over the same
events) and the run (`royalty_run_compute` then `royalty_run_post`, in this process,
which plays the worker; its peak RSS is `worker_rss_mb`). Targets (issue 15): the run
within 5x the GROUP BY and under 60 s at 1,000,000 events, memory bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bench.ledger import _database_recreate


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _catalogue(args):
    from licensing.models import (
        License,
        LicenseeOrganization,
        Offer,
        OfferVersion,
        RightsShare,
        Work,
    )
    from licensing.services import creator_create
    from licensing.services.organizations import organization_create

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
        term_days=60,
        unit="item",
    )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    licenses = License.objects.bulk_create(
        License(
            organization=organization,
            offer_version=pool if n % 5 == 0 else per_unit,
            starts_at=start,
            ends_at=start + timedelta(days=60) if n % 5 == 0 else None,
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
    _ = LicenseeOrganization
    return organization, licenses


def _events(args, organization, licenses) -> None:
    from django.db import connection

    from licensing.services.usage_partitions import usage_partitions_ensure

    usage_partitions_ensure(periods=["2026-01"])
    first_license, wpl = licenses[0].pk, args.works_per_license
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO licensing_usageeventkey (organization_id, event_id, occurred_at, period,"
            " created_at) SELECT %s, 'e' || n, timestamptz '2026-01-01' + (n %% 2592000) *"
            " interval '1 second', '2026-01', now() FROM generate_series(1, %s) n",
            [organization.pk, args.events],
        )
        cursor.execute(
            "INSERT INTO licensing_usageevent (id, organization_id, event_id, license_id, work_id,"
            " use, unit, units, occurred_at, period, model, corrections_count, created_at)"
            " SELECT k.id, k.organization_id, k.event_id, l.license_id, l.work_id, 'ai-eval',"
            " 'token', 1 + k.id %% 1000, k.occurred_at, k.period, '', 0, now()"
            " FROM licensing_usageeventkey k JOIN LATERAL (SELECT license_id, work_id FROM"
            " licensing_license_works WHERE license_id = %s + (k.id %% %s) ORDER BY work_id"
            " OFFSET (k.id / %s) %% %s LIMIT 1) l ON true",
            [first_license, len(licenses), len(licenses), wpl],
        )
        cursor.execute("ANALYZE licensing_usageevent")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--works", type=int, default=10_000)
    parser.add_argument("--creators", type=int, default=2_000)
    parser.add_argument("--licenses", type=int, default=500)
    parser.add_argument("--works-per-license", type=int, default=20)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("set DATABASE_URL to a scratch PostgreSQL database")
    _database_recreate(url)
    _setup()
    from django.db import connection

    from licensing.services import finance_user_create
    from payouts.models import RoyaltyRun
    from payouts.services.royalty_posting import royalty_run_post
    from payouts.services.royalty_runs import royalty_run_approve, royalty_run_compute

    organization, licenses = _catalogue(args)
    began = time.perf_counter()
    _events(args, organization, licenses)
    print(f"loaded {args.events:,} events in {time.perf_counter() - began:.1f} s", flush=True)

    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT license_id, work_id, sum(units) FROM licensing_usageevent"
            " WHERE period = '2026-01' AND flag IS NULL GROUP BY license_id, work_id"
        )
        groups = len(cursor.fetchall())
    group_by_s = time.perf_counter() - began
    print(f"baseline GROUP BY: {groups:,} groups in {group_by_s:.2f} s", flush=True)

    user = finance_user_create(username="bench-finance")
    began = time.perf_counter()
    run = royalty_run_compute(run_id=RoyaltyRun.objects.create(period="2026-01").pk)
    assert run.status == RoyaltyRun.Status.COMPUTED, run.failure_reason
    compute_s = time.perf_counter() - began
    royalty_run_approve(run=run, user=user)
    run.refresh_from_db()
    if run.status != RoyaltyRun.Status.APPROVED:  # above the four-eyes limit
        royalty_run_approve(run=run, user=finance_user_create(username="bench-finance-2"))
    run = royalty_run_post(run_id=run.pk)
    run_s = time.perf_counter() - began
    assert run.status == RoyaltyRun.Status.POSTED
    lines = run.lines.count()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"run: compute {compute_s:.2f} s, total {run_s:.2f} s, {lines:,} lines,"
        f" {run.licenses_posted} transactions, peak RSS {rss_mb:.0f} MB",
        flush=True,
    )
    print(
        json.dumps(
            {
                "events": args.events,
                "run_s": round(run_s, 3),
                "compute_s": round(compute_s, 3),
                "group_by_s": round(group_by_s, 3),
                "ratio": round(run_s / group_by_s, 2),
                "worker_rss_mb": round(rss_mb, 1),
                "lines": lines,
                "transactions": run.licenses_posted,
            }
        )
    )


if __name__ == "__main__":
    main()
