"""Reads of royalty runs and their lines (statements and invoices build on these)."""

from __future__ import annotations

from django.db.models import F, Q, QuerySet

from licensing.models import Creator, LicenseeOrganization
from payouts.models import RoyaltyLine, RoyaltyRun


def royalty_run_posted_for(*, period: str) -> RoyaltyRun | None:
    """The period's posted run, if there is one (there is at most one)."""
    return RoyaltyRun.objects.filter(period=period, status=RoyaltyRun.Status.POSTED).first()


def royalty_lines_for(
    *,
    period: str,
    creator: Creator | None = None,
    organization: LicenseeOrganization | None = None,
) -> QuerySet[RoyaltyLine]:
    """The lines of the period's POSTED run, optionally of one creator or licensee.

    Empty until the period's run is posted: a preview is not money.
    """
    lines = RoyaltyLine.objects.filter(
        run__period=period, run__status=RoyaltyRun.Status.POSTED
    ).select_related("work", "license", "creator", "license__organization")
    if creator is not None:
        lines = lines.filter(creator=creator)
    if organization is not None:
        lines = lines.filter(license__organization=organization)
    return lines.order_by("license_id", "work_id", "kind", "creator_id")


def royalty_run_lines(
    *, run: RoyaltyRun, creator=None, work=None, license=None
) -> QuerySet[RoyaltyLine]:
    """A run's lines (any status), filtered as the API's query parameters allow."""
    lines = run.lines.select_related("work", "license", "creator")
    if creator is not None:
        lines = lines.filter(creator=creator)
    if work is not None:
        lines = lines.filter(work=work)
    if license is not None:
        lines = lines.filter(license=license)
    return lines.order_by("id")


def royalty_lines_posted_of_runs(
    *, run_public_ids: list[str], creator: Creator, currency: str
) -> QuerySet[RoyaltyLine]:
    """A creator's lines of these runs that are in the books (statements).

    A posted run's lines all are; a run still posting has booked its licenses up to
    `posted_through_license_id` (each chunk commits with its progress).
    """
    booked = Q(run__status=RoyaltyRun.Status.POSTED) | Q(
        run__status=RoyaltyRun.Status.POSTING, license_id__lte=F("run__posted_through_license_id")
    )
    return (
        RoyaltyLine.objects.filter(
            booked, run__public_id__in=run_public_ids, creator=creator, currency=currency
        )
        .select_related("work", "license__organization", "license__offer_version__offer")
        .order_by("run_id", "license_id", "work_id", "kind")
    )
