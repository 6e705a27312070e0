"""Royalty runs: start, compute (the Celery job's body), recompute and approve.

Computing reads the period's usage aggregated in SQL (`royalty_usage`), the licenses
that earn in the period, their works and co-owners, and hands them to the pure
rating functions of `payouts.rating`; the lines are written in bulk with the run's
totals. Nothing reaches the books until the run is approved and posted
(`royalty_posting`). Each write is one transaction on the run's locked row, so a
job delivered twice finds the run already past the step and does nothing.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from ledger.money import minor_to_micros
from licensing.models import License, OfferVersion, RightsShare
from licensing.sales import commission_basis_points
from payouts import rating
from payouts.errors import PayoutError, PayoutErrorCode
from payouts.models import RoyaltyApproval, RoyaltyRun
from payouts.periods import period_over_window, period_window
from payouts.services import royalty_lines, royalty_usage

logger = logging.getLogger(__name__)

LICENSES_PER_CHUNK = 500
Status = RoyaltyRun.Status


def license_commission_basis_points(license: License) -> int:
    """The commission rate stored on the license at purchase (settings' until it is stored)."""
    stored = getattr(license, "commission_basis_points", None)
    return commission_basis_points() if stored is None else int(stored)


def _enqueue(task_name: str, run: RoyaltyRun) -> None:
    from payouts import tasks  # tasks import this module: at the top it would be circular

    task = getattr(tasks, task_name)
    transaction.on_commit(lambda: task.delay(run.pk))


def royalty_run_start(*, period: str, user=None, at: datetime | None = None) -> RoyaltyRun:
    """Start (or find) the period's run and enqueue its computation.

    A posted period is `409 period_posted`; a run already under way or computed is
    returned as it is (recompute it explicitly).
    """
    period_over_window(period, at=at)
    with transaction.atomic():
        live = (
            RoyaltyRun.objects.select_for_update()
            .filter(period=period)
            .exclude(status=Status.FAILED)
        )
        existing = live.first()
        if existing is not None and existing.status == Status.POSTED:
            raise PayoutError(
                PayoutErrorCode.PERIOD_POSTED, f"{period} is already posted.", param="period"
            )
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                run = RoyaltyRun.objects.create(period=period, created_by=user)
        except IntegrityError:  # a concurrent start won the partial unique index
            return RoyaltyRun.objects.exclude(status=Status.FAILED).get(period=period)
        _enqueue("royalty_run_compute_task", run)
        return run


def royalty_run_recompute(*, run: RoyaltyRun) -> RoyaltyRun:
    """Compute a computed (not yet approved) run again, e.g. after usage corrections."""
    with transaction.atomic():
        run = RoyaltyRun.objects.select_for_update().get(pk=run.pk)
        if run.status == Status.POSTED:
            raise PayoutError(PayoutErrorCode.PERIOD_POSTED, f"{run.period} is already posted.")
        if run.status != Status.COMPUTED:
            raise PayoutError(
                PayoutErrorCode.ROYALTY_RUN_NOT_COMPUTED,
                f"Only a computed run can be recomputed; this one is {run.status}.",
            )
        run.approvals.all().delete()
        run.status = Status.COMPUTING
        run.save(update_fields=["status"])
        _enqueue("royalty_run_compute_task", run)
        return run


def second_approval_needed(run: RoyaltyRun) -> bool:
    """True when a currency's gross is above `ROYALTY_SECOND_APPROVAL_ABOVE` (minor units)."""
    limits = getattr(settings, "ROYALTY_SECOND_APPROVAL_ABOVE", {})
    for currency, total in run.totals.items():
        limit = limits.get(currency)
        if limit is not None and total["gross_micros"] > minor_to_micros(int(limit), currency):
            return True
    return False


def royalty_run_approve(*, run: RoyaltyRun, user, at: datetime | None = None) -> RoyaltyRun:
    """Record a finance user's approval; approved (posting enqueued) once enough approved."""
    with transaction.atomic():
        run = RoyaltyRun.objects.select_for_update().get(pk=run.pk)
        if run.status != Status.COMPUTED:
            raise PayoutError(
                PayoutErrorCode.ROYALTY_RUN_NOT_COMPUTED,
                f"Only a computed run can be approved; this one is {run.status}.",
            )
        if run.approvals.filter(user=user).exists():
            raise PayoutError(
                PayoutErrorCode.SECOND_APPROVER_REQUIRED,
                "You approved this run already; a different finance user must approve it.",
            )
        moment = at or timezone.now()
        RoyaltyApproval.objects.create(run=run, user=user, at=moment)
        needed = 2 if second_approval_needed(run) else 1
        if run.approvals.count() >= needed:
            run.status = Status.APPROVED
            run.approved_at = moment
            run.save(update_fields=["status", "approved_at"])
            _enqueue("royalty_run_post_task", run)
        return run


def royalty_run_compute(*, run_id: int) -> RoyaltyRun:
    """The compute job: rate the period into lines and totals, or fail with the reason.

    The period's usage is closed first, in a transaction of its own: from then on a
    declaration or correction for it is booked into the next open period, so nothing
    declared after this read (or between this and posting) goes unrated.
    """
    try:
        period = RoyaltyRun.objects.filter(pk=run_id, status=Status.COMPUTING).values_list(
            "period", flat=True
        )
        for closing in period:
            royalty_usage.period_close(period=closing)
        with transaction.atomic():
            run = RoyaltyRun.objects.select_for_update().get(pk=run_id)
            if run.status != Status.COMPUTING:
                return run  # delivered twice, or recomputed meanwhile: nothing to do
            _compute(run)
            return run
    except Exception as error:
        logger.exception("royalty run %s failed to compute", run_id)
        RoyaltyRun.objects.filter(pk=run_id, status=Status.COMPUTING).update(
            status=Status.FAILED, failure_reason=f"{type(error).__name__}: {error}"[:500] or "error"
        )
        return RoyaltyRun.objects.get(pk=run_id)


def _compute(run: RoyaltyRun) -> None:
    window = period_window(run.period)
    units = royalty_usage.units_by_license(period=run.period)
    adjustments = royalty_usage.adjustments_by_license(period=run.period)
    run.lines.all().delete()
    totals: dict[str, dict[str, int]] = {}
    with_lines: set[int] = set()
    licenses = _earning_licenses(window, set(units) | set(adjustments))
    for start in range(0, len(licenses), LICENSES_PER_CHUNK):
        chunk = licenses[start : start + LICENSES_PER_CHUNK]
        rated = _rate_chunk(chunk, window, units, adjustments)
        royalty_lines.lines_insert(run, rated)
        for currency, line in rated:
            total = totals.get(currency)
            if total is None:
                total = totals[currency] = dict.fromkeys(
                    ("gross_micros", "commission_micros", "net_micros", "lines"), 0
                )
            total["gross_micros"] += line.gross_micros
            total["commission_micros"] += line.commission_micros
            total["net_micros"] += line.net_micros
            total["lines"] += 1
            with_lines.add(line.license)
    for total in totals.values():
        assert total["gross_micros"] == total["commission_micros"] + total["net_micros"], total
    run.totals = totals
    run.flagged = royalty_usage.flagged_report(period=run.period)
    run.licenses_total = len(with_lines)
    run.status = Status.COMPUTED
    run.computed_at = timezone.now()
    run.save()


def _earning_licenses(window: tuple[datetime, datetime], with_usage: set[int]) -> list[License]:
    """Per-unit and pool licenses in force in the period, and any with usage in it."""
    start, end = window
    in_term = Q(starts_at__lt=end) & (Q(ends_at__isnull=True) | Q(ends_at__gt=start))
    rated = Q(offer_version__pricing__in=[OfferVersion.Pricing.PER_UNIT, OfferVersion.Pricing.POOL])
    return list(
        License.objects.filter(rated & (in_term | Q(pk__in=with_usage)))
        .select_related("offer_version")
        .order_by("pk")
    )


def _works_and_owners(licenses: list[License]) -> tuple[dict, dict]:
    """The chunk's works per license and co-owners per work, each work's read once.

    The owners are selected through the license-work table in the same statement
    rather than by a list of thousands of work ids (which psycopg and the server
    spent longer parsing than reading). Several licenses sharing a work share its
    owners' mapping.
    """
    links = License.works.through.objects.filter(license_id__in=[lic.pk for lic in licenses])
    works: dict[int, list[int]] = defaultdict(list)
    for license_id, work_id in links.values_list("license_id", "work_id"):
        works[license_id].append(work_id)
    owners: dict[int, dict[int, int]] = defaultdict(dict)
    for work_id, creator_id, basis_points in RightsShare.objects.filter(
        work_id__in=links.values("work_id")
    ).values_list("work_id", "creator_id", "basis_points"):
        owners[work_id][creator_id] = basis_points
    return works, owners


def _rate_chunk(licenses, window, units, adjustments) -> list[tuple[str, rating.RatedLine]]:
    """Rate a chunk of licenses: (currency, line) pairs, in license order."""
    works, owners = _works_and_owners(licenses)
    rated: list[tuple[str, rating.RatedLine]] = []
    for license in licenses:
        version = license.offer_version
        bp = license_commission_basis_points(license)
        license_works = sorted(works.get(license.pk, []))
        if not license_works:
            continue
        if version.pricing == OfferVersion.Pricing.POOL:
            lines = _rate_pool(license, bp, license_works, owners, units, adjustments, window)
        else:
            lines = _rate_per_unit(license, bp, license_works, owners, units, adjustments, window)
        currency = license.currency
        rated += [(currency, line) for line in lines]
    return rated


def _rate_per_unit(license, bp, license_works, owners, units, adjustments, window):
    version = license.offer_version
    start, end = window
    in_term = license.starts_at < end and (license.ends_at is None or license.ends_at > start)
    used = units.get(license.pk, {})
    adjusted = adjustments.get(license.pk, {})
    terms = rating.PerUnitLicense(
        license=license.pk,
        currency=license.currency,
        rate_minor=version.unit_amount_decimal,
        minimum_minor=version.minimum_amount,
        commission_basis_points=bp,
        works=license_works,
        owners={work: owners[work] for work in set(license_works) | set(used) | set(adjusted)},
    )
    lines = rating.rate_per_unit(terms, units=used, adjustments=adjusted, minimum_applies=in_term)
    # Reconciliation: what the licensee owes is the usage rated work by work (or the
    # minimum when above), plus the adjustments, and that is the lines' gross.
    rated_micros = sum(
        rating.per_unit_micros(count, version.unit_amount_decimal, license.currency)
        for count in used.values()
    )
    minimum = minor_to_micros(version.minimum_amount or 0, license.currency) if in_term else 0
    owed = max(rated_micros, minimum) + sum(
        rating.per_unit_micros(count, version.unit_amount_decimal, license.currency)
        for count in adjusted.values()
    )
    assert sum(line.gross_micros for line in lines) == owed, (license.pk, owed)
    return lines


def _rate_pool(license, bp, license_works, owners, units, adjustments, window):
    assert license.ends_at is not None, "a pool license has a term"
    merged = dict(units.get(license.pk, {}))
    for work, count in adjustments.get(license.pk, {}).items():
        merged[work] = merged.get(work, 0) + count
    # A work outside the collection cannot share its pool; negative totals weigh nothing.
    weights = {work: count for work, count in merged.items() if count > 0 and work in license_works}
    terms = rating.PoolLicense(
        license=license.pk,
        currency=license.currency,
        amount_micros=minor_to_micros(license.amount, license.currency),
        commission_basis_points=bp,
        starts_at=license.starts_at,
        ends_at=license.ends_at,
        works=license_works,
        owners={work: owners[work] for work in license_works},
    )
    lines = rating.rate_pool(terms, units=weights, window=window)
    commission, net = rating.pool_period_parts(terms, window)
    assert sum(line.net_micros for line in lines) == net, license.pk
    assert sum(line.commission_micros for line in lines) == commission, license.pk
    return lines
