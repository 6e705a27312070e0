"""A creator's statement for one period and currency: the one read behind API, CSV, PDF, portal.

Every figure comes from the books. The balances are the creator's payable as of the
period's edges in business time (`account_balance(as_of=...)`), so the closing balance
is the payable at the period's end to the micro, and one period's closing is the next
one's opening by construction. The window is the ledger's own, (start, end]: a royalty
run is effective at its period's end (the first instant of the next month), so it lands
in its own period's statement.

What moved in the window is read in one query, summed per transaction kind and
reference (`ledger.selectors.account_movements`): `payout*` kinds are `paid` (a returned
payout gives money back, so it lowers `paid`), everything else is `earned`. The lines
explain `earned`:

- a flat license's sale (`license_sale`, reference `license:<id>`) is a line of kind
  `sale` per work the creator owns in it: units 1, the price per work as the rate, the
  creator's share of the price as gross, of the commission and of the net (the nets
  are what the sale credited, recomputed with the sale's own split);
- a royalty run (`royalty`, reference `royalty_run:<id>`) contributes the run's lines
  for the creator (per unit, pool, minimum, adjustment), as finance approved them;
- anything else that moved the payable (a reversal, a run still posting, the sale of a
  work whose shares were edited since) is reconciled, never hidden: its difference is
  a line of kind `other`, so the lines' nets always add up to `earned` exactly.

No row is written: a statement is a pure read of the books and the run's lines, so it
can never drift from them. Its id is derived from what identifies it,
`stm_<creator>_<YYYY-MM>_<currency>`, stable across reads and meaningless to anyone
but its creator (another creator's id is a 404, like an unknown one).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from ledger.models import Account
from ledger.money import minor_unit_micros, round_down_to_minor
from ledger.selectors import (
    Movement,
    account_balances,
    account_entries,
    account_movements,
    accounts_of_owner,
)
from licensing.accounts import CREATOR_OWNER_TYPE, creator_payable
from licensing.models import Creator, License, RightsShare
from licensing.sales import SALE_KIND, commission_basis_points, sale_owner_parts
from payouts.errors import PayoutError, PayoutErrorCode
from payouts.models import RoyaltyLine, RoyaltyRun
from payouts.periods import period_window
from payouts.selectors.royalty_runs import royalty_lines_posted_of_runs

PAID_KIND_PREFIX = "payout"
ROYALTY_KIND = "royalty"
SALE_LINE_KIND = "sale"
OTHER_LINE_KIND = "other"
STATEMENT_PREFIX = "stm"
# A statement list without a period reaches back at most this many months.
PERIODS_LISTED_MAX = 36


@dataclass(frozen=True)
class StatementLine:
    kind: str
    work_id: str | None
    work_title: str
    licensee_id: str | None
    licensee_name: str
    license_id: str | None
    use: str
    units: int | None
    unit_amount_decimal: Decimal | None  # minor units per unit
    gross_micros: int
    commission_micros: int
    net_micros: int


@dataclass(frozen=True)
class Statement:
    id: str
    creator: Creator
    period: str
    currency: str
    status: str  # open | final
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    opening_micros: int
    earned_micros: int
    paid_micros: int
    closing_micros: int
    commission_basis_points: int
    lines: tuple[StatementLine, ...]

    @property
    def gross_micros(self) -> int:
        return sum(line.gross_micros for line in self.lines)

    @property
    def commission_micros(self) -> int:
        return sum(line.commission_micros for line in self.lines)

    @property
    def net_micros(self) -> int:
        return sum(line.net_micros for line in self.lines)


def minor_rounded_down(amount_micros: int, currency: str) -> int:
    """The whole minor units of an amount, toward zero (the remainder stays owed)."""
    return round_down_to_minor(amount_micros, currency).payable_micros // _unit(currency)


def _unit(currency: str) -> int:
    return minor_unit_micros(currency)


def statement_id(*, creator: Creator, period: str, currency: str) -> str:
    return f"{STATEMENT_PREFIX}_{creator.public_id}_{period}_{currency}"


def creator_payables(*, creator: Creator) -> dict[str, Account]:
    """The creator's payable account in each currency it has one in."""
    return {
        account.currency: account
        for account in accounts_of_owner(owner_type=CREATOR_OWNER_TYPE, owner_id=creator.public_id)
        if account.code == creator_payable(creator.public_id, account.currency).row().code
    }


def statement_currencies(*, creator: Creator) -> list[str]:
    """The currencies the creator has statements in: their payables', else their payout one."""
    return sorted(creator_payables(creator=creator)) or [creator.payout_currency]


def _status(period: str) -> str:
    posted = RoyaltyRun.objects.filter(period=period, status=RoyaltyRun.Status.POSTED).exists()
    return "final" if posted else "open"


def statement_for(*, creator: Creator, period: str, currency: str) -> Statement:
    """The creator's statement of one period and currency (400 for a malformed period)."""
    starts_at, ends_at = period_window(period)
    payable = creator_payables(creator=creator).get(currency)
    opening = closing = 0
    movements: list[Movement] = []
    if payable is not None:
        opening = -account_balances([payable], as_of=starts_at).get(payable.pk, 0)
        closing = -account_balances([payable], as_of=ends_at).get(payable.pk, 0)
        movements = account_movements(payable, since=starts_at, until=ends_at)
    paid = sum(m.amount_micros for m in movements if m.kind.startswith(PAID_KIND_PREFIX))
    earned = -sum(m.amount_micros for m in movements if not m.kind.startswith(PAID_KIND_PREFIX))
    assert opening + earned - paid == closing, (opening, earned, paid, closing)
    lines = _lines(creator, currency, movements)
    explained = sum(line.net_micros for line in lines)
    if explained != earned:
        lines.append(_other_line(earned - explained))
    rates = _line_rates(creator, movements)
    return Statement(
        id=statement_id(creator=creator, period=period, currency=currency),
        creator=creator,
        period=period,
        currency=currency,
        status=_status(period),
        starts_at=starts_at,
        ends_at=ends_at,
        opening_micros=opening,
        earned_micros=earned,
        paid_micros=paid,
        closing_micros=closing,
        commission_basis_points=rates.pop() if len(rates) == 1 else commission_basis_points(),
        lines=tuple(lines),
    )


def _references(movements: Iterable[Movement], kind: str, prefix: str) -> dict[str, int]:
    """Object id -> the payable's movement (credits positive) for one kind of transaction."""
    found: dict[str, int] = defaultdict(int)
    for movement in movements:
        if movement.kind == kind and movement.reference.startswith(prefix):
            found[movement.reference.removeprefix(prefix)] -= movement.amount_micros
    return found


def _line_rates(creator: Creator, movements: list[Movement]) -> set[int]:
    sold = _references(movements, SALE_KIND, "license:")
    runs = _references(movements, ROYALTY_KIND, "royalty_run:")
    rates = set(
        License.objects.filter(public_id__in=list(sold)).values_list(
            "commission_basis_points", flat=True
        )
    )
    if runs:
        rates |= set(
            RoyaltyLine.objects.filter(run__public_id__in=list(runs), creator=creator)
            .values_list("license__commission_basis_points", flat=True)
            .distinct()
        )
    return {rate for rate in rates if rate is not None}


def _lines(creator: Creator, currency: str, movements: list[Movement]) -> list[StatementLine]:
    sold = _references(movements, SALE_KIND, "license:")
    runs = _references(movements, ROYALTY_KIND, "royalty_run:")
    lines = _sale_lines(creator, sold) if sold else []
    if runs:
        royalty = royalty_lines_posted_of_runs(
            run_public_ids=list(runs), creator=creator, currency=currency
        )
        lines += [_royalty_line(line) for line in royalty]
    return lines


def _royalty_line(line: RoyaltyLine) -> StatementLine:
    license = line.license
    return StatementLine(
        kind=line.kind,
        work_id=line.work.public_id,
        work_title=line.work.title,
        licensee_id=license.organization.public_id,
        licensee_name=license.organization.name,
        license_id=license.public_id,
        use=license.offer_version.offer.use,
        units=line.units,
        unit_amount_decimal=line.rate,
        gross_micros=line.gross_micros,
        commission_micros=line.commission_micros,
        net_micros=line.net_micros,
    )


def _sale_lines(creator: Creator, sold: dict[str, int]) -> list[StatementLine]:
    """One `sale` line per work of each sold license the creator owns a share of."""
    licenses = (
        License.objects.filter(public_id__in=list(sold))
        .select_related("organization", "offer_version__offer")
        .prefetch_related("works")
        .order_by("starts_at", "id")
    )
    licenses = list(licenses)
    work_ids = {work.pk for license in licenses for work in license.works.all()}
    owners: dict[int, dict[str, int]] = defaultdict(dict)
    for share in RightsShare.objects.filter(work_id__in=work_ids).values(
        "work_id", "creator__public_id", "basis_points"
    ):
        owners[share["work_id"]][share["creator__public_id"]] = share["basis_points"]
    lines: list[StatementLine] = []
    for license in licenses:
        lines += _license_sale_lines(creator, license, owners, sold[license.public_id])
    return lines


def _license_sale_lines(
    creator: Creator, license: License, owners: dict[int, dict[str, int]], credited: int
) -> list[StatementLine]:
    version = license.offer_version
    rate = license.commission_basis_points
    if rate is None:
        rate = commission_basis_points()
    price_micros = (version.amount or 0) * _unit(license.currency)
    parts = {}
    for work in sorted(license.works.all(), key=lambda work: work.pk):
        work_owners = owners.get(work.pk, {})
        if creator.public_id in work_owners and sum(work_owners.values()) == 10_000:
            split = sale_owner_parts(
                amount_micros=price_micros, owners=work_owners, rate_basis_points=rate
            )
            parts[work] = split[creator.public_id]
    if not parts or sum(net for _, net in parts.values()) != credited:
        return []  # shares edited since the sale: the difference shows as `other`
    return [
        StatementLine(
            kind=SALE_LINE_KIND,
            work_id=work.public_id,
            work_title=work.title,
            licensee_id=license.organization.public_id,
            licensee_name=license.organization.name,
            license_id=license.public_id,
            use=version.offer.use,
            units=1,
            unit_amount_decimal=Decimal(version.amount or 0),
            gross_micros=commission + net,
            commission_micros=commission,
            net_micros=net,
        )
        for work, (commission, net) in parts.items()
    ]


def _other_line(net_micros: int) -> StatementLine:
    return StatementLine(
        kind=OTHER_LINE_KIND,
        work_id=None,
        work_title="Other movements (corrections, postings in progress)",
        licensee_id=None,
        licensee_name="",
        license_id=None,
        use="",
        units=None,
        unit_amount_decimal=None,
        gross_micros=net_micros,
        commission_micros=0,
        net_micros=net_micros,
    )


def statements_for_period(*, creator: Creator, period: str) -> list[Statement]:
    """The creator's statements of one period, one per currency (400 if malformed)."""
    period_window(period)
    return [
        statement_for(creator=creator, period=period, currency=currency)
        for currency in statement_currencies(creator=creator)
    ]


def statement_get(*, creator: Creator, statement_public_id: str) -> Statement:
    """The creator's statement by id; 404 for a malformed id or another creator's."""
    prefix = f"{STATEMENT_PREFIX}_{creator.public_id}_"
    rest = statement_public_id.removeprefix(prefix)
    period, _, currency = rest.rpartition("_")
    if (
        not statement_public_id.startswith(prefix)
        or currency not in statement_currencies(creator=creator)
        or statement_public_id != statement_id(creator=creator, period=period, currency=currency)
    ):
        raise PayoutError(PayoutErrorCode.STATEMENT_NOT_FOUND, "No such statement.")
    try:
        period_window(period)
    except PayoutError:
        raise PayoutError(PayoutErrorCode.STATEMENT_NOT_FOUND, "No such statement.") from None
    return statement_for(creator=creator, period=period, currency=currency)


def periods_back(*, months: int, at: datetime.datetime | None = None) -> list[str]:
    """The last `months` periods up to the current one, oldest first."""
    assert 1 <= months <= PERIODS_LISTED_MAX, months
    now = at or timezone.now()
    index = now.year * 12 + now.month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - months + 1, index + 1)]


def statement_periods(*, creator: Creator, at: datetime.datetime | None = None) -> list[str]:
    """The periods a creator has statements for, newest first: since their first account."""
    now = at or timezone.now()
    payables = creator_payables(creator=creator).values()
    firsts = [
        page.entries[0].effective_at
        for page in (account_entries(payable, limit=1) for payable in payables)
        if page.entries
    ]
    # The ledger's windows are (start, end]: an entry at a month's first instant is the
    # previous month's.
    first = min(firsts, default=now) - datetime.timedelta(microseconds=1)
    months = now.year * 12 + now.month - (first.year * 12 + first.month) + 1
    return list(reversed(periods_back(months=min(max(months, 1), PERIODS_LISTED_MAX), at=now)))
