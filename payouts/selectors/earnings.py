"""A creator's net earnings per month, by work and by licensee: the earnings page and API.

Each month is that month's statement (`payouts.selectors.statements`), so the chart,
the table beside it and the statements can never disagree: a month's net is the
statement's `earned`, and its parts by work and by licensee are its lines summed, with
the lines the statement could not attribute (kind `other`) kept as their own row.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from licensing.models import Creator
from payouts.errors import PayoutError, PayoutErrorCode
from payouts.selectors.statements import (
    PERIODS_LISTED_MAX,
    StatementLine,
    periods_back,
    statement_currencies,
    statement_for,
)

MONTHS_DEFAULT = 12
UNATTRIBUTED = ("", "Other movements")


@dataclass(frozen=True)
class EarningsPart:
    id: str | None
    name: str
    net_micros: int


@dataclass(frozen=True)
class EarningsMonth:
    period: str
    net_micros: int
    by_work: tuple[EarningsPart, ...]
    by_licensee: tuple[EarningsPart, ...]

    @property
    def label(self) -> str:
        """The month in words: November 2026."""
        year, month = self.period.split("-")
        return f"{datetime.date(int(year), int(month), 1):%B %Y}"


@dataclass(frozen=True)
class Earnings:
    currency: str
    currencies: tuple[str, ...]
    months: tuple[EarningsMonth, ...]

    @property
    def nothing_earned(self) -> bool:
        return all(month.net_micros == 0 and not month.by_work for month in self.months)


def months_parse(value: object) -> int:
    """`?months=` as a number of months, 1 to 36 (400 `parameter_invalid` otherwise)."""
    if value is None or value == "":
        return MONTHS_DEFAULT
    text = str(value)
    if not text.isdigit() or not 1 <= int(text) <= PERIODS_LISTED_MAX:
        raise PayoutError(
            PayoutErrorCode.PARAMETER_INVALID,
            f"months must be a whole number from 1 to {PERIODS_LISTED_MAX}.",
            param="months",
        )
    return int(text)


def earnings_currency(*, creator: Creator, currency: object) -> str:
    """The currency asked for, else the creator's payout currency when they have one."""
    currencies = statement_currencies(creator=creator)
    if currency in (None, ""):
        return creator.payout_currency if creator.payout_currency in currencies else currencies[0]
    if currency not in currencies:
        raise PayoutError(
            PayoutErrorCode.PARAMETER_INVALID,
            f"currency must be one of {', '.join(currencies)}.",
            param="currency",
        )
    return str(currency)


def _parts(lines: tuple[StatementLine, ...], *, by: str) -> tuple[EarningsPart, ...]:
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for line in lines:
        if by == "work":
            key = (line.work_id, line.work_title) if line.work_id else UNATTRIBUTED
        else:
            key = (line.licensee_id, line.licensee_name) if line.licensee_id else UNATTRIBUTED
        totals[key] += line.net_micros
    ordered = sorted(totals.items(), key=lambda item: (-item[1], item[0][1], item[0][0]))
    return tuple(EarningsPart(key[0] or None, key[1], micros) for key, micros in ordered)


def earnings_for(
    *,
    creator: Creator,
    months: int = MONTHS_DEFAULT,
    currency: str | None = None,
    at: datetime.datetime | None = None,
) -> Earnings:
    """The last `months` months up to the current one, oldest first, in one currency."""
    chosen = earnings_currency(creator=creator, currency=currency)
    found = []
    for period in periods_back(months=months, at=at):
        statement = statement_for(creator=creator, period=period, currency=chosen)
        found.append(
            EarningsMonth(
                period=period,
                net_micros=statement.earned_micros,
                by_work=_parts(statement.lines, by="work"),
                by_licensee=_parts(statement.lines, by="licensee"),
            )
        )
    return Earnings(
        currency=chosen,
        currencies=tuple(statement_currencies(creator=creator)),
        months=tuple(found),
    )
