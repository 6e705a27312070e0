"""The rating math of royalty runs, by hand-worked examples and a property test.

Every expected number is worked in the comments. EUR and USD have two decimals, so
one minor unit (a cent) is 10,000 micros.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from payouts.rating import (
    ADJUSTMENT,
    MINIMUM,
    PER_UNIT,
    PerUnitLicense,
    PoolLicense,
    commission_split,
    per_unit_micros,
    pool_period_parts,
    rate_per_unit,
    rate_pool,
    round_half_even,
    split_int,
    term_part,
)


def month(year: int, number: int) -> tuple[datetime, datetime]:
    start = datetime(year, number, 1, tzinfo=UTC)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)
    return start, end


SOLE = {1: 10_000}


def test_round_half_even_on_exact_fractions():
    assert [round_half_even(Fraction(n, 2)) for n in (1, 3, 5, -1, -3)] == [0, 2, 2, 0, -2]
    assert round_half_even(Fraction(1275, 1000)) == 1
    assert round_half_even(Fraction(1751, 1000)) == 2


def test_per_unit_rounds_once_to_the_micro_half_even():
    # 0.00005 cent a unit is 0.5 micro: 1 unit -> 0.5 -> 0 (even), 3 units -> 1.5 -> 2.
    assert per_unit_micros(1, Decimal("0.00005"), "eur") == 0
    assert per_unit_micros(3, Decimal("0.00005"), "eur") == 2
    # 0.042 cent a token, 7 tokens: 0.294 cent = 2,940 micros, exact.
    assert per_unit_micros(7, Decimal("0.042"), "eur") == 2_940
    # Exact with huge counts too (no Decimal context precision involved).
    assert per_unit_micros(2**53, Decimal("0.000000000001"), "eur") == round_half_even(
        Fraction(2**53 * 10_000, 10**12)
    )


def test_per_unit_fractional_cent_rate_three_co_owners():
    # 1,000,003 tokens x 0.042 cent = 42,000.126 cents = 420,001,260 micros.
    # Shares 3334/3333/3333 bp: exact parts 140,028,420.084 / 139,986,419.958 (x2);
    # floors sum to 420,001,258, the 2 left go to the two .958 remainders.
    # Commission 10 %: 14,002,842 / 13,998,642 / 13,998,642 (each exact).
    terms = PerUnitLicense(
        license=9,
        currency="eur",
        rate_minor=Decimal("0.042"),
        minimum_minor=None,
        commission_basis_points=1000,
        works=[5],
        owners={5: {1: 3334, 2: 3333, 3: 3333}},
    )
    lines = rate_per_unit(terms, units={5: 1_000_003})
    assert [(ln.creator, ln.gross_micros, ln.commission_micros, ln.net_micros) for ln in lines] == [
        (1, 140_028_420, 14_002_842, 126_025_578),
        (2, 139_986_420, 13_998_642, 125_987_778),
        (3, 139_986_420, 13_998_642, 125_987_778),
    ]
    assert {ln.kind for ln in lines} == {PER_UNIT}
    assert all(ln.units == 1_000_003 and ln.rate == Decimal("0.042") for ln in lines)
    assert sum(ln.gross_micros for ln in lines) == 420_001_260
    assert sum(ln.commission_micros for ln in lines) == 42_000_126


def _minimum_terms(works):
    return PerUnitLicense(
        license=1,
        currency="usd",
        rate_minor=Decimal("0.5"),
        minimum_minor=1_000,  # $10.00 = 10,000,000 micros
        commission_basis_points=1000,
        works=works,
        owners={work: SOLE for work in works},
    )


def test_minimum_with_usage_tops_up_by_units():
    # A: 300 x 0.5 = 150 cents = 1,500,000; B: 100 x 0.5 = 500,000; rated 2,000,000.
    # Top-up 10,000,000 - 2,000,000 = 8,000,000, by units 3:1 -> 6,000,000 / 2,000,000.
    lines = rate_per_unit(_minimum_terms([11, 12]), units={11: 300, 12: 100})
    minimum = {ln.work: ln.gross_micros for ln in lines if ln.kind == MINIMUM}
    rated = {ln.work: ln.gross_micros for ln in lines if ln.kind == PER_UNIT}
    assert rated == {11: 1_500_000, 12: 500_000}
    assert minimum == {11: 6_000_000, 12: 2_000_000}
    assert sum(ln.gross_micros for ln in lines) == 10_000_000


def test_minimum_without_usage_is_shared_equally():
    # 10,000,000 / 3 = 3,333,333.33: floors 9,999,999, the one left to the smallest work.
    lines = rate_per_unit(_minimum_terms([13, 11, 12]), units={})
    assert [(ln.work, ln.kind, ln.gross_micros) for ln in lines] == [
        (11, MINIMUM, 3_333_334),
        (12, MINIMUM, 3_333_333),
        (13, MINIMUM, 3_333_333),
    ]
    # Commission 10 % of each: 333,333.4 -> split by largest remainder.
    assert [ln.commission_micros for ln in lines] == [333_333, 333_333, 333_333]


def test_minimum_not_owed_above_it_and_adjustment_lines_are_signed():
    # 30,000 x 0.5 = 15,000 cents, above the 1,000 minimum: no top-up. A late
    # correction of -100 units: -50 cents = -500,000, commission -50,000.
    lines = rate_per_unit(_minimum_terms([11]), units={11: 30_000}, adjustments={11: -100})
    assert [(ln.kind, ln.units, ln.gross_micros, ln.commission_micros) for ln in lines] == [
        (PER_UNIT, 30_000, 150_000_000, 15_000_000),
        (ADJUSTMENT, -100, -500_000, -50_000),
    ]


def test_commission_rate_is_the_one_stored_on_each_license():
    # The same 1,000,000 micros at 10 % and, after a change, 15 %.
    assert commission_split(1_000_000, 1000) == (100_000, 900_000)
    assert commission_split(1_000_000, 1500) == (150_000, 850_000)


def _pool(works, starts_at, days):
    from datetime import timedelta

    return PoolLicense(
        license=3,
        currency="eur",
        amount_micros=10_000_000,  # 1,000 cents; commission 10 % = 1,000,000, pool 9,000,000
        commission_basis_points=1000,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(days=days),
        works=works,
        owners={work: SOLE for work in works},
    )


def test_pool_term_straddling_three_periods_sums_exactly():
    # 35 days from 30 Jan: 2 days in Jan, 28 in Feb, 5 in Mar.
    # Net 9,000,000: Jan floor(9e6 x 2/35) = 514,285; cumulative Feb floor(9e6 x 30/35)
    # = 7,714,285 -> Feb 7,200,000; Mar takes the rest 1,285,715.
    # Commission 1,000,000: 57,142; 857,142 -> 800,000; 142,858.
    pool = _pool([1], datetime(2026, 1, 30, tzinfo=UTC), 35)
    parts = [pool_period_parts(pool, month(2026, m)) for m in (1, 2, 3)]
    assert parts == [(57_142, 514_285), (800_000, 7_200_000), (142_858, 1_285_715)]
    assert sum(c for c, _ in parts) == 1_000_000
    assert sum(n for _, n in parts) == 9_000_000
    assert pool_period_parts(pool, month(2026, 4)) == (0, 0)
    assert pool_period_parts(pool, month(2025, 12)) == (0, 0)


def test_pool_with_usage_shares_by_units_and_skips_unused_works():
    # Jan part: commission 57,142, net 514,285. Units W1 2, W2 1, W3 0.
    # Net 2/3 = 342,856.67, 1/3 = 171,428.33: the one left to W1 -> 342,857 / 171,428.
    # Commission 38,094.67 / 19,047.33 -> 38,095 / 19,047. W3 gets nothing.
    pool = _pool([1, 2, 3], datetime(2026, 1, 30, tzinfo=UTC), 35)
    lines = rate_pool(pool, units={1: 2, 2: 1}, window=month(2026, 1))
    assert [
        (ln.work, ln.units, ln.gross_micros, ln.commission_micros, ln.net_micros) for ln in lines
    ] == [
        (1, 2, 380_952, 38_095, 342_857),
        (2, 1, 190_475, 19_047, 171_428),
    ]


def test_pool_without_usage_is_shared_equally():
    # Net 514,285 / 3 = 171,428.33: 171,429 / 171,428 / 171,428; commission 57,142 / 3
    # = 19,047.33: 19,048 / 19,047 / 19,047.
    pool = _pool([3, 1, 2], datetime(2026, 1, 30, tzinfo=UTC), 35)
    lines = rate_pool(pool, units={}, window=month(2026, 1))
    assert [(ln.work, ln.net_micros, ln.commission_micros) for ln in lines] == [
        (1, 171_429, 19_048),
        (2, 171_428, 19_047),
        (3, 171_428, 19_047),
    ]


owners_strategy = st.dictionaries(st.integers(1, 6), st.integers(1, 50), min_size=1, max_size=4)


def _basis_points(weights):
    from ledger.money import split_largest_remainder

    return split_largest_remainder(10_000, weights)


@settings(max_examples=150, deadline=None)
@given(
    works=st.dictionaries(st.integers(1, 20), owners_strategy, min_size=1, max_size=6),
    units=st.lists(st.integers(0, 10**9), min_size=6, max_size=6),
    rate=st.decimals(min_value=0, max_value=100, places=6, allow_nan=False),
    minimum=st.one_of(st.none(), st.integers(0, 10**6)),
    bp=st.integers(0, 10_000),
    amount=st.integers(0, 10**12),
    start_day=st.integers(0, 400),
    days=st.integers(1, 800),
)
def test_no_micro_created_or_lost(works, units, rate, minimum, bp, amount, start_day, days):
    from datetime import timedelta

    owners = {work: _basis_points(weights) for work, weights in works.items()}
    ids = sorted(works)
    used = {work: count for work, count in zip(ids, units, strict=False) if count}
    terms = PerUnitLicense(1, "eur", rate, minimum, bp, ids, owners)
    lines = rate_per_unit(terms, units=used)
    expected = sum(per_unit_micros(count, rate, "eur") for count in used.values())
    owed = max(expected, (minimum or 0) * 10_000)
    assert sum(ln.gross_micros for ln in lines) == owed
    assert all(ln.gross_micros == ln.commission_micros + ln.net_micros for ln in lines)
    # A pool over its whole term, month by month, gives out exactly what was paid.
    starts_at = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=start_day, hours=start_day % 24)
    pool = PoolLicense(
        2, "eur", amount, bp, starts_at, starts_at + timedelta(days=days), ids, owners
    )
    year, number, given_out = starts_at.year, starts_at.month, []
    while datetime(year, number, 1, tzinfo=UTC) < pool.ends_at:
        given_out += rate_pool(pool, units=used, window=month(year, number))
        year, number = (year + 1, 1) if number == 12 else (year, number + 1)
    commission, net = commission_split(amount, bp)
    assert sum(ln.net_micros for ln in given_out) == net
    assert sum(ln.commission_micros for ln in given_out) == commission
    assert all(ln.commission_micros >= 0 and ln.net_micros >= 0 for ln in given_out)


def test_term_part_windows_tile_the_term():
    term = (datetime(2026, 1, 1, 12, tzinfo=UTC), datetime(2026, 1, 2, 12, tzinfo=UTC))
    first = term_part(
        7, term, (datetime(2025, 12, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC))
    )
    second = term_part(
        7, term, (datetime(2026, 1, 2, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))
    )
    assert (first, second) == (3, 4)


@given(amount=st.integers(-(10**15), 10**15), bp=st.integers(0, 10_000))
def test_commission_split_is_the_ledgers_largest_remainder_split(amount, bp):
    from ledger.money import split_largest_remainder

    expected = split_largest_remainder(amount, {"commission": bp, "owners": 10_000 - bp})
    assert commission_split(amount, bp) == (expected["commission"], expected["owners"])


@given(
    total=st.integers(-(10**15), 10**15),
    weights=st.dictionaries(st.integers(1, 40), st.integers(0, 10_000), min_size=1, max_size=8),
)
def test_split_int_is_the_ledgers_largest_remainder_split(total, weights):
    from hypothesis import assume

    from ledger.money import split_largest_remainder

    assume(sum(weights.values()) > 0)
    # The mapping's order must not matter, as for the ledger's split.
    shuffled = sorted(weights.items(), key=lambda item: (item[1], -item[0]))
    assert split_int(total, shuffled) == split_largest_remainder(total, weights)


def test_split_int_ties_go_to_the_smaller_key():
    # 10 over three equal weights: 3 each, the one left to key 2, the smallest.
    assert split_int(10, [(7, 1), (2, 1), (5, 1)]) == {7: 3, 2: 4, 5: 3}
    assert split_int(-10, [(7, 1), (2, 1), (5, 1)]) == {7: -3, 2: -4, 5: -3}


@given(
    units=st.integers(-(10**12), 10**12),
    rate=st.decimals(min_value=0, max_value=1000, places=9, allow_nan=False),
    currency=st.sampled_from(["eur", "jpy", "kwd"]),
)
def test_per_unit_micros_is_the_exact_fraction_rounded_half_even(units, rate, currency):
    from ledger.money import minor_unit_micros

    exact = Fraction(rate) * units * minor_unit_micros(currency)
    floor = exact.numerator // exact.denominator
    rest = exact - floor
    expected = floor + (1 if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and floor % 2) else 0)
    assert per_unit_micros(units, rate, currency) == expected
