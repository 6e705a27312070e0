"""ledger.money: conversions, rounding and the largest-remainder split, exactly."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import LedgerError
from ledger.money import (
    CURRENCY_EXPONENTS,
    currency_exponent,
    currency_validate,
    decimal_minor_to_micros,
    micros_format,
    micros_to_minor,
    minor_to_micros,
    minor_unit_micros,
    round_down_to_minor,
    split_evenly,
    split_largest_remainder,
)

currencies = st.sampled_from(sorted(CURRENCY_EXPONENTS))
amounts = st.integers(min_value=-(10**15), max_value=10**15)


class TestCurrencies:
    def test_exponents_follow_iso_4217(self) -> None:
        assert (currency_exponent("eur"), currency_exponent("jpy"), currency_exponent("kwd")) == (
            2,
            0,
            3,
        )

    def test_minor_unit_size_in_micros(self) -> None:
        assert minor_unit_micros("usd") == 10_000
        assert minor_unit_micros("jpy") == 1_000_000
        assert minor_unit_micros("bhd") == 1_000

    def test_codes_are_normalised_to_lower_case(self) -> None:
        assert currency_validate("EUR") == "eur"

    @pytest.mark.parametrize("code", ["xxx", "", "euro", "e"])
    def test_unsupported_currency_has_a_code(self, code: str) -> None:
        with pytest.raises(LedgerError) as caught:
            currency_validate(code)
        assert caught.value.code == "currency_unsupported"
        assert caught.value.param == "currency"


class TestConversions:
    def test_minor_to_micros(self) -> None:
        assert minor_to_micros(1250, "eur") == 12_500_000
        assert minor_to_micros(1250, "jpy") == 1_250_000_000

    def test_micros_to_minor_refuses_to_drop_a_fraction(self) -> None:
        assert micros_to_minor(12_500_000, "eur") == 1250
        with pytest.raises(ValueError, match="not a whole number"):
            micros_to_minor(12_500_001, "eur")

    @pytest.mark.parametrize("bad", [12.5, True, Decimal("1")])
    def test_no_float_or_bool_amounts(self, bad: object) -> None:
        with pytest.raises(TypeError):
            minor_to_micros(bad, "eur")  # type: ignore[arg-type]

    @given(amount=st.integers(-(10**12), 10**12), currency=currencies)
    def test_round_trip_is_exact(self, amount: int, currency: str) -> None:
        assert micros_to_minor(minor_to_micros(amount, currency), currency) == amount

    def test_decimal_minor_amounts_become_micros(self) -> None:
        # 0.042 cents per retrieval is 420 micros; 12,345 of them are 5.1849 EUR.
        assert decimal_minor_to_micros("0.042", "eur") == 420
        assert decimal_minor_to_micros(Decimal("0.042") * 12_345, "eur") == 5_184_900

    def test_decimal_minor_amounts_round_half_even_below_a_micro(self) -> None:
        assert decimal_minor_to_micros("0.00005", "eur") == 0  # 0.5 micro -> even (0)
        assert decimal_minor_to_micros("0.00015", "eur") == 2  # 1.5 micros -> even (2)

    def test_decimal_minor_refuses_floats_and_garbage(self) -> None:
        with pytest.raises(TypeError):
            decimal_minor_to_micros(0.1, "eur")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="not a decimal"):
            decimal_minor_to_micros("abc", "eur")


class TestRoundDown:
    def test_payout_keeps_the_sub_cent_remainder(self) -> None:
        assert round_down_to_minor(47_995_200, "eur") == (47_990_000, 5_200)

    def test_zero_decimal_currency(self) -> None:
        assert round_down_to_minor(1_999_999, "jpy") == (1_000_000, 999_999)

    def test_negative_amounts_round_toward_zero(self) -> None:
        assert round_down_to_minor(-47_995_200, "eur") == (-47_990_000, -5_200)

    @given(amount=amounts, currency=currencies)
    def test_nothing_is_lost_or_created(self, amount: int, currency: str) -> None:
        payable, remainder = round_down_to_minor(amount, currency)
        assert payable + remainder == amount
        assert payable % minor_unit_micros(currency) == 0
        assert abs(remainder) < minor_unit_micros(currency)
        assert abs(payable) <= abs(amount)


class TestFormat:
    @pytest.mark.parametrize(
        ("micros", "currency", "shown"),
        [
            (12_500_000, "eur", "12.50 EUR"),
            (12_345_678, "eur", "12.345678 EUR"),
            (-5_200, "eur", "-0.0052 EUR"),
            (1_000_000, "jpy", "1 JPY"),
            (1_500_000, "jpy", "1.5 JPY"),
            (123_456_789_000_000, "usd", "123,456,789.00 USD"),
        ],
    )
    def test_shows_at_least_the_currency_decimals(
        self, micros: int, currency: str, shown: str
    ) -> None:
        assert micros_format(micros, currency) == shown


class TestSplit:
    def test_co_owner_shares_add_up(self) -> None:
        parts = split_largest_remainder(79_992_000, {"cleo": 60, "dan": 40})
        assert parts == {"cleo": 47_995_200, "dan": 31_996_800}

    def test_leftover_goes_to_the_largest_remainder(self) -> None:
        assert split_largest_remainder(100, {"a": 1, "b": 1, "c": 1}) == {"a": 34, "b": 33, "c": 33}
        assert split_largest_remainder(10, {"a": 1, "b": 2}) == {"a": 3, "b": 7}

    def test_ties_break_by_key_not_by_order(self) -> None:
        assert split_largest_remainder(2, {"c": 1, "b": 1, "a": 1}) == {"c": 0, "b": 1, "a": 1}

    def test_tie_break_can_be_given(self) -> None:
        parts = split_largest_remainder(1, {"a": 1, "b": 1}, tie_break=lambda key: key != "b")
        assert parts == {"a": 0, "b": 1}

    def test_zero_weight_gets_nothing(self) -> None:
        assert split_largest_remainder(7, {"a": 0, "b": 3, "c": 3}) == {"a": 0, "b": 4, "c": 3}

    def test_decimal_and_fraction_weights(self) -> None:
        parts = split_largest_remainder(
            1_000_000, {"a": Decimal("0.333"), "b": Fraction(2, 3), "c": Decimal("0.001")}
        )
        assert sum(parts.values()) == 1_000_000
        assert parts == {"a": 332_778, "b": 666_223, "c": 999}

    def test_negative_total_mirrors_the_positive_split(self) -> None:
        assert split_largest_remainder(-10, {"a": 1, "b": 2}) == {"a": -3, "b": -7}

    @pytest.mark.parametrize("weights", [{}, {"a": 0}, {"a": 0, "b": 0}])
    def test_needs_a_positive_weight(self, weights: dict[str, int]) -> None:
        with pytest.raises(ValueError, match="positive"):
            split_largest_remainder(10, weights)

    @pytest.mark.parametrize("weights", [{"a": -1, "b": 2}, {"a": 0.5}, {"a": True}])
    def test_rejects_negative_float_and_bool_weights(self, weights: dict[str, object]) -> None:
        with pytest.raises((ValueError, TypeError)):
            split_largest_remainder(10, weights)  # type: ignore[arg-type]

    def test_split_evenly(self) -> None:
        assert split_evenly(10, ["x", "y", "z"]) == {"x": 4, "y": 3, "z": 3}

    @settings(max_examples=300)
    @given(
        total=amounts,
        weights=st.dictionaries(
            st.text(min_size=1, max_size=4), st.integers(0, 10**6), min_size=1, max_size=12
        ).filter(lambda w: sum(w.values()) > 0),
    )
    def test_parts_always_sum_to_the_whole(self, total: int, weights: dict[str, int]) -> None:
        parts = split_largest_remainder(total, weights)
        assert sum(parts.values()) == total
        assert list(parts) == list(weights)
        weight_sum = sum(weights.values())
        for key, part in parts.items():
            exact = Fraction(total * weights[key], weight_sum)
            assert abs(part - exact) < 1  # never more than one micro off its exact share
            if weights[key] == 0:
                assert part == 0

    @given(
        total=amounts,
        weights=st.dictionaries(st.integers(0, 50), st.integers(1, 1000), min_size=1, max_size=10),
        seed=st.randoms(use_true_random=False),
    )
    def test_result_does_not_depend_on_mapping_order(
        self, total: int, weights: dict[int, int], seed: object
    ) -> None:
        items = list(weights.items())
        seed.shuffle(items)  # type: ignore[attr-defined]
        assert split_largest_remainder(total, dict(items)) == split_largest_remainder(
            total, weights
        )
