"""Reads of royalty runs and their lines (statements and invoices build on these)."""

from __future__ import annotations

from django.db.models import QuerySet

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
