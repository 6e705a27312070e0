"""What a creator sees first in the portal: their money, their licenses, their co-owned works.

One read, `creator_home`, feeds the portal's front page (`licensing/portal_home.html`
through the `portal` template tags). Figures come from the books: the balance is the
creator's payable (what Accord owes them), this month's earnings are the credits to it
since the first of the month (UTC), leaving out payout returns, which give back money
earned before. Licenses are those covering any work the creator owns or co-owns.

Flagged usage reads `creator_flagged_usage`: the month's flagged usage of the works the
creator owns or co-owns, from the same selector as the portal's usage page and
`GET /api/v1/me/usage` (`licensing.selectors.usage_reports`); none, and the page says so.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from ledger.display import money_from_micros
from ledger.selectors import account_balance, accounts_credited_since, accounts_of_owner
from licensing.accounts import CREATOR_OWNER_TYPE
from licensing.models import Creator, License, RightsShare, UsageFlag
from licensing.selectors.usage_reports import creator_usage_lines

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
    """Usage of one of the creator's works that was flagged (reserved, unlicensed, out of term)."""

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
    """Flagged usage of the creator's (co-)owned works in a period (YYYY-MM), one query."""
    return [
        FlaggedUsage(
            work_title=line.work_title,
            organization_name=line.licensee_name,
            flag=line.flag,
            events=line.events,
            units=line.units,
        )
        for line in creator_usage_lines(creator=creator, period=period)
        if line.flag is not None
    ][:FLAGGED_ROWS_SHOWN]


def creator_home(*, creator: Creator, at: datetime.datetime | None = None) -> CreatorHome:
    now = at or timezone.now()
    since = _month_start(now)
    payables = [
        account
        for account in accounts_of_owner(owner_type=CREATOR_OWNER_TYPE, owner_id=creator.public_id)
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
