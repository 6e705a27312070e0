"""ledger.display and its template filters: money written as people write it, exactly."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.template import Context, Template
from hypothesis import given
from hypothesis import strategies as st

from ledger.display import (
    AmountNotRepresentable,
    date_words,
    datetime_words,
    major_from_minor,
    minor_decimal_from_major,
    minor_from_major,
    money_from_micros,
    money_from_minor,
)
from ledger.money import CURRENCY_EXPONENTS, MICROS_PER_UNIT


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (1250, "gbp", "£12.50"),
        (123456, "eur", "€1,234.56"),
        (0, "eur", "€0.00"),
        (5, "usd", "$0.05"),
        (1234, "jpy", "¥1,234"),
        (1250, "chf", "CHF\u00a012.50"),
        (1250, "sek", "SEK\u00a012.50"),
        (-500, "eur", "-€5.00"),
        (Decimal("0.0003"), "eur", "€0.000003"),  # a per-token rate keeps its digits
        (Decimal("0.42"), "eur", "€0.0042"),
        (Decimal("1250.000000000000"), "eur", "€12.50"),  # a 12-place field, no noise
        (1234, "kwd", "KWD\u00a01.234"),
    ],
)
def test_minor_units_are_written_with_the_symbol(amount, currency, shown) -> None:
    assert money_from_minor(amount, currency) == shown


@pytest.mark.parametrize(
    ("micros", "shown"),
    [
        (1_234_560_000, "€1,234.56"),
        (4_200, "€0.0042"),
        (1, "€0.000001"),
        (-12_500_000, "-€12.50"),
        (0, "€0.00"),
    ],
)
def test_micros_show_sub_cent_digits_only_when_there_are_any(micros, shown) -> None:
    assert money_from_micros(micros, "eur") == shown


def test_floats_and_booleans_are_refused() -> None:
    with pytest.raises(TypeError):
        money_from_minor(12.5, "eur")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        money_from_micros(True, "eur")


@pytest.mark.parametrize(
    ("typed", "currency", "minor"),
    [("12.50", "gbp", 1250), ("12.5", "eur", 1250), ("0", "eur", 0), ("1234", "jpy", 1234)],
)
def test_a_typed_major_amount_becomes_minor_units(typed, currency, minor) -> None:
    assert minor_from_major(Decimal(typed), currency) == minor


@pytest.mark.parametrize(
    ("typed", "currency"), [("12.505", "eur"), ("1.5", "jpy"), ("NaN", "eur"), ("x", "eur")]
)
def test_digits_the_currency_cannot_hold_are_refused_not_rounded(typed, currency) -> None:
    with pytest.raises(AmountNotRepresentable):
        minor_from_major(typed, currency)


def test_a_rate_keeps_its_fraction_of_the_minor_unit() -> None:
    assert minor_decimal_from_major(Decimal("0.000003"), "eur") == Decimal("0.0003")
    with pytest.raises(AmountNotRepresentable):
        minor_decimal_from_major(Decimal("0.000000000000001"), "eur")  # 13 places of a cent


@given(
    amount=st.integers(min_value=-(10**15), max_value=10**15),
    currency=st.sampled_from(sorted(CURRENCY_EXPONENTS)),
)
def test_minor_round_trips_through_the_major_form_value(amount, currency) -> None:
    assert minor_from_major(major_from_minor(amount, currency), currency) == amount


@given(micros=st.integers(min_value=0, max_value=10**15))
def test_the_micros_text_is_exactly_the_amount(micros) -> None:
    text = money_from_micros(micros, "eur").removeprefix("€").replace(",", "")
    assert Decimal(text) * MICROS_PER_UNIT == micros


def test_dates_in_words_are_utc() -> None:
    moment = datetime.datetime(
        2026, 12, 3, 23, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=-2))
    )
    assert date_words(moment) == "4 December 2026"
    assert datetime_words(moment) == "4 December 2026, 01:30 UTC"
    assert date_words(datetime.date(2026, 1, 9)) == "9 January 2026"
    assert date_words(None) == "—"


def test_the_template_filters_render_the_same_text() -> None:
    template = Template(
        "{% load display %}{{ price|money:'gbp' }} | {{ rate|money:'eur' }} | "
        "{{ balance|money_micros:'eur' }} | {{ missing|money:'eur' }} | {{ when|date_words }}"
    )
    rendered = template.render(
        Context(
            {
                "price": 1250,
                "rate": Decimal("0.0003"),
                "balance": 1_234_560_000,
                "missing": None,
                "when": datetime.date(2026, 12, 3),
            }
        )
    )
    assert rendered == "£12.50 | €0.000003 | €1,234.56 | — | 3 December 2026"
