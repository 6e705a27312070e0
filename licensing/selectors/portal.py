"""What a creator sees first in the portal: their money, their licenses, their co-owned works.

One read, `creator_home`, feeds the portal's front page (`licensing/portal_home.html`
through the `portal` template tags). Figures come from the books: the balance is the
creator's payable (what Accord owes them), this month's earnings are the credits to it
since the first of the month (UTC), leaving out payout returns, which give back money
earned before. Licenses are those covering any work the creator owns or co-owns.

Flagged usage is this month's declared usage of the creator's works (owned or co-owned)
that was never rated (a reserved work, a work outside the license, outside its term),
counted per work, licensee and flag from the month's partition alone.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Q, Sum
from django.utils import timezone

from ledger.display import money_from_micros
from ledger.selectors import account_balance, accounts_credited_since, accounts_of_owner
from licensing.models import Creator, License, RightsShare, UsageFlag, Work
from licensing.selectors.usage import usage_events_of_period

RECENT_LICENSES_SHOWN = 10
CO_OWNED_WORKS_SHOWN = 50
FLAGGED_ROWS_SHOWN = 20
# Transactions that credit a payable with money earned earlier (a payout given back).
_NOT_EARNINGS_KIND_PREFIXES = ("payout",)


@dataclass(frozen=True)
class MoneyLine:
    currency: str
    micros: int

    @property
    def label(self) -> str:
        return money_from_micros(self.micros, self.currency)


@dataclass(frozen=True)
class FlaggedUsage:
    """Usage of one of the creator's works that was flagged (unknown licensee, no license)."""

    work_title: str
    organization_name: str
    flag: str
    events: int
    units: int = 0

    @property
    def flag_label(self) -> str:
        return dict(UsageFlag.choices).get(self.flag, self.flag)


@dataclass(frozen=True)
class CreatorHome:
    balances: list[MoneyLine]
    earned_this_month: list[MoneyLine]
    month_label: str
    recent_licenses: list[License]
    flagged_usage: list[FlaggedUsage]
    co_owned_shares: list[RightsShare] = field(default_factory=list)

    @property
    def nothing_owed(self) -> bool:
        return not any(line.micros for line in self.balances)

    @property
    def nothing_earned(self) -> bool:
        return not any(line.micros for line in self.earned_this_month)


def _month_start(at: datetime.datetime) -> datetime.datetime:
    moment = at.astimezone(datetime.UTC)
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def creator_flagged_usage(*, creator: Creator, period: str) -> list[FlaggedUsage]:
    """Flagged usage of the works the creator owns or co-owns in a period (YYYY-MM).

    Grouped in SQL like `usage_flagged_for_period`, but narrowed to the creator's works
    before grouping: the whole month's flags of every tenant are never read.
    """
    theirs = Work.objects.filter(Q(creator=creator) | Q(shares__creator=creator)).values("pk")
    rows = (
        usage_events_of_period(period=period)
        .filter(flag__isnull=False, work_id__in=theirs)
        .values("work__title", "organization__name", "flag")
        .annotate(events=Count("id"), total=Sum("units"))
        .order_by("work__title", "organization__name", "flag")
        .values_list("work__title", "organization__name", "flag", "events", "total")
    )[:FLAGGED_ROWS_SHOWN]
    return [
        FlaggedUsage(
            work_title=title,
            organization_name=organization,
            flag=flag,
            events=events,
            units=int(units or 0),
        )
        for title, organization, flag, events, units in rows
    ]


def creator_home(*, creator: Creator, at: datetime.datetime | None = None) -> CreatorHome:
    now = at or timezone.now()
    since = _month_start(now)
    payables = [
        account
        for account in accounts_of_owner(owner_type="creator", owner_id=creator.public_id)
        if account.kind == "liability"
    ]
    earned = accounts_credited_since(
        accounts=payables, since=since, kind_prefixes_excluded=_NOT_EARNINGS_KIND_PREFIXES
    )
    theirs = Q(works__creator=creator) | Q(works__shares__creator=creator)
    licenses = (
        License.objects.filter(pk__in=License.objects.filter(theirs).values("pk"))
        .select_related("organization", "offer_version__offer")
        .order_by("-created_at", "-id")[:RECENT_LICENSES_SHOWN]
    )
    co_owned = (
        RightsShare.objects.filter(creator=creator)
        .exclude(work__creator=creator)
        .select_related("work__creator")
        .order_by("work__title", "work_id")[:CO_OWNED_WORKS_SHOWN]
    )
    return CreatorHome(
        balances=[MoneyLine(a.currency, -account_balance(a)) for a in payables],
        earned_this_month=[
            MoneyLine(account.currency, earned.get(account.pk, 0)) for account in payables
        ],
        month_label=f"{since:%B %Y}",
        recent_licenses=list(licenses),
        flagged_usage=creator_flagged_usage(creator=creator, period=f"{since:%Y-%m}"),
        co_owned_shares=list(co_owned),
    )
