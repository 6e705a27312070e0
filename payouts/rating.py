"""The rating math of a royalty run: pure functions over aggregates, in integer micros.

Nothing here touches the database: a run's service reads the period's units per
(license, work) in SQL and hands them to these functions, which return the lines.
Every split is the ledger's largest-remainder split (`ledger.money`), so parts add
up to their whole exactly; ties go to the smaller key (work id, creator id).

Rounding (the one place a sub-micro fraction appears): a per-unit work's amount is
`units x unit_amount_decimal x micros per minor unit`, computed exactly as a
fraction and rounded once per (license, work, kind, period) to the nearest micro,
half to even. Nothing else rounds: every other amount is an exact split.

A line's gross is always its commission plus its net:
- per-unit, minimum and adjustment lines: the work's gross is split to co-owners by
  share, then each co-owner's gross into the platform's commission and the net at the
  license's stored commission rate.
- pool lines: the commission was taken when the pool was bought, so the period's part
  of that commission and the period's part of the pool (what the sale credited to
  the license's pool account) are each spread over the term and shared among works
  and co-owners separately; a line's gross is the sum of its two shares.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from ledger.money import minor_unit_micros

BASIS_POINTS_TOTAL = 10_000

PER_UNIT = "per_unit"
POOL = "pool"
MINIMUM = "minimum"
ADJUSTMENT = "adjustment"

# A work's co-owners: creator key -> share in basis points (summing to 10,000).
Owners = Mapping[int, int]


@dataclass(frozen=True)
class RatedLine:
    """One line of a run: what one creator earns from one work of one license."""

    creator: int
    work: int
    license: int
    kind: str
    units: int
    rate: Decimal | None
    gross_micros: int
    commission_micros: int
    net_micros: int

    def __post_init__(self) -> None:
        assert self.gross_micros == self.commission_micros + self.net_micros, self


def _round_half_even_ratio(numerator: int, denominator: int) -> int:
    """Round numerator / denominator (denominator > 0) to the nearest integer, ties to even."""
    floor, remainder = divmod(numerator, denominator)  # remainder in [0, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and floor % 2 == 1):
        return floor + 1
    return floor


def round_half_even(value: Fraction) -> int:
    """Round an exact fraction to the nearest integer, ties to the even one."""
    return _round_half_even_ratio(value.numerator, value.denominator)


@lru_cache(maxsize=1024)
def _micros_ratio(rate_minor: Decimal, currency: str) -> tuple[int, int]:
    # A run rates thousands of works at a handful of rates: the exact ratio of micros
    # per unit is worked out once per rate, each work is then two integer operations.
    numerator, denominator = rate_minor.as_integer_ratio()
    return numerator * minor_unit_micros(currency), denominator


def per_unit_micros(units: int, rate_minor: Decimal, currency: str) -> int:
    """Rate `units` at `rate_minor` (minor units a unit, a Decimal) to micros, exactly once."""
    assert isinstance(units, int), units
    assert not isinstance(units, bool), units
    assert isinstance(rate_minor, Decimal), rate_minor
    assert rate_minor >= 0, rate_minor
    numerator, denominator = _micros_ratio(rate_minor, currency)
    return _round_half_even_ratio(units * numerator, denominator)


def split_int(total: int, weights: Iterable[tuple[int, int]]) -> dict[int, int]:
    """`ledger.money.split_largest_remainder` for integer weights, in integers.

    The same result (tests compare them): floors of the exact shares, the units left
    one each to the largest remainders, ties to the smaller key; a negative total is
    split by magnitude. All weights share one denominator (their sum), so remainders
    compare as integers and no Fraction is built: a run splits tens of thousands of
    amounts. Keys are compared as given; weights must be non-negative ints.
    """
    items = list(weights)
    if len(items) == 1:
        key, weight = items[0]
        assert weight > 0, items
        return {key: total}
    weight_sum = sum(weight for _, weight in items)
    assert weight_sum > 0, items
    magnitude = abs(total)
    floors: dict[int, int] = {}
    remainders = []
    for key, weight in items:
        assert weight >= 0, items
        floor, remainder = divmod(magnitude * weight, weight_sum)
        floors[key] = floor
        remainders.append((-remainder, key))
    leftover = magnitude - sum(floors.values())
    if leftover:
        for _, key in sorted(remainders)[:leftover]:
            floors[key] += 1
    if total < 0:
        return {key: -part for key, part in floors.items()}
    return floors


def commission_split(amount_micros: int, commission_basis_points: int) -> tuple[int, int]:
    """Split an amount into (commission, net) at the rate, as the sale does.

    The largest-remainder split of `ledger.money` for two parts, in integers (it runs
    once per line): floors of both exact parts, the one micro left (if any) to the
    larger remainder, a tie to the commission (the smaller key, as the sale's split).
    """
    assert 0 <= commission_basis_points <= BASIS_POINTS_TOTAL, commission_basis_points
    magnitude = abs(amount_micros)
    commission, commission_remainder = divmod(
        magnitude * commission_basis_points, BASIS_POINTS_TOTAL
    )
    net, net_remainder = divmod(
        magnitude * (BASIS_POINTS_TOTAL - commission_basis_points), BASIS_POINTS_TOTAL
    )
    if commission + net < magnitude:
        if commission_remainder >= net_remainder:
            commission += 1
        else:
            net += 1
    sign = -1 if amount_micros < 0 else 1
    return sign * commission, sign * net


def share_by_units(total_micros: int, units: Mapping[int, int], works: Sequence[int]) -> dict:
    """Share among works by their units; equally among `works` when no work has units."""
    weights = [(work, count) for work, count in units.items() if count > 0]
    if weights:
        return split_int(total_micros, weights)
    assert works, "a license names at least one work"
    return split_int(total_micros, [(work, 1) for work in sorted(set(works))])


def _owners_checked(owners: Owners) -> Owners:
    assert owners, "a work has at least one owner"
    assert sum(owners.values()) == BASIS_POINTS_TOTAL, owners
    return owners


@dataclass(frozen=True)
class LineKey:
    """What a work's lines share: the license, the work, the kind, units and rate."""

    license: int
    work: int
    kind: str
    units: int
    rate: Decimal | None


def lines_from_gross(
    key: LineKey, gross_micros: int, owners: Owners, commission_basis_points: int
) -> list[RatedLine]:
    """A work's gross to its co-owners by share, then each part into commission and net."""
    lines = []
    for creator, gross in sorted(split_int(gross_micros, _owners_checked(owners).items()).items()):
        commission, net = commission_split(gross, commission_basis_points)
        lines.append(
            RatedLine(
                creator,
                key.work,
                key.license,
                key.kind,
                key.units,
                key.rate,
                gross,
                commission,
                net,
            )
        )
    return lines


def lines_from_parts(
    key: LineKey, commission_micros: int, net_micros: int, owners: Owners
) -> list[RatedLine]:
    """A work's commission and net shared to co-owners separately (pool lines)."""
    owners = _owners_checked(owners)
    commissions = split_int(commission_micros, owners.items())
    nets = split_int(net_micros, owners.items())
    return [
        RatedLine(
            creator,
            key.work,
            key.license,
            key.kind,
            key.units,
            key.rate,
            commissions[creator] + nets[creator],
            commissions[creator],
            nets[creator],
        )
        for creator in sorted(owners)
    ]


@dataclass(frozen=True)
class PerUnitLicense:
    """What rating a per-unit license for a period needs, all read at once."""

    license: int
    currency: str
    rate_minor: Decimal
    minimum_minor: int | None
    commission_basis_points: int
    works: Sequence[int]
    owners: Mapping[int, Owners]  # work -> co-owners


def rate_per_unit(
    terms: PerUnitLicense,
    *,
    units: Mapping[int, int],
    adjustments: Mapping[int, int] | None = None,
    minimum_applies: bool = True,
) -> list[RatedLine]:
    """Rate one per-unit license's period: usage, the minimum's top-up, adjustments.

    The minimum compares with the period's own usage (not adjustments of earlier
    periods): when the rated amount is below it, the top-up is shared by the works in
    proportion to their units, equally among the license's works when none.
    """
    bp = terms.commission_basis_points
    lines: list[RatedLine] = []
    rated_total = 0
    for work in sorted(units):
        count = units[work]
        assert count > 0, (work, count)
        gross = per_unit_micros(count, terms.rate_minor, terms.currency)
        rated_total += gross
        key = LineKey(terms.license, work, PER_UNIT, count, terms.rate_minor)
        lines += lines_from_gross(key, gross, terms.owners[work], bp)
    minimum_micros = (terms.minimum_minor or 0) * minor_unit_micros(terms.currency)
    if minimum_applies and minimum_micros > rated_total:
        top_ups = share_by_units(minimum_micros - rated_total, units, terms.works)
        for work, gross in sorted(top_ups.items()):
            key = LineKey(terms.license, work, MINIMUM, 0, None)
            lines += lines_from_gross(key, gross, terms.owners[work], bp)
    for work, count in sorted((adjustments or {}).items()):
        if count == 0:
            continue
        gross = per_unit_micros(count, terms.rate_minor, terms.currency)
        key = LineKey(terms.license, work, ADJUSTMENT, count, terms.rate_minor)
        lines += lines_from_gross(key, gross, terms.owners[work], bp)
    return lines


def term_part(
    total: int, term: tuple[datetime, datetime], window: tuple[datetime, datetime]
) -> int:
    """The part of `total` falling in `window`, spread evenly over the term's time.

    Cumulative floors: the part is floor(total x elapsed at the window's end / term)
    minus the same at its start, so consecutive windows never overlap or leave a gap,
    and the window holding the term's end takes the remainder: the parts of all the
    windows that tile the term sum to `total` exactly.
    """
    start, end = term
    assert end > start, term
    length = end - start

    def cumulative(moment: datetime) -> int:
        elapsed = min(max(moment, start), end) - start
        return total * _seconds(elapsed) // _seconds(length)

    return cumulative(window[1]) - cumulative(window[0])


def _seconds(delta) -> int:
    """A timedelta in whole microseconds, exactly (no float)."""
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(frozen=True)
class PoolLicense:
    """A pool license: the amount paid, the commission taken then, the term, the works."""

    license: int
    currency: str
    amount_micros: int
    commission_basis_points: int
    starts_at: datetime
    ends_at: datetime
    works: Sequence[int]
    owners: Mapping[int, Owners]


def pool_period_parts(terms: PoolLicense, window: tuple[datetime, datetime]) -> tuple[int, int]:
    """The (commission, net) parts of the pool falling in the period `window`."""
    commission, net = commission_split(terms.amount_micros, terms.commission_basis_points)
    term = (terms.starts_at, terms.ends_at)
    return term_part(commission, term, window), term_part(net, term, window)


def rate_pool(
    terms: PoolLicense, *, units: Mapping[int, int], window: tuple[datetime, datetime]
) -> list[RatedLine]:
    """Share the period's part of a pool among its works by units, then to co-owners."""
    commission, net = pool_period_parts(terms, window)
    if commission == 0 and net == 0:
        return []
    commissions = share_by_units(commission, units, terms.works)
    nets = share_by_units(net, units, terms.works)
    lines: list[RatedLine] = []
    for work in sorted(nets):
        if commissions[work] == 0 and nets[work] == 0:
            continue
        key = LineKey(terms.license, work, POOL, max(units.get(work, 0), 0), None)
        lines += lines_from_parts(key, commissions[work], nets[work], terms.owners[work])
    return lines
