"""Money arithmetic every app shares: currencies, micros, minor units, exact splits.

The books count integer **micros** (millionths of a currency's major unit) so that
fractions of a cent accrue exactly; Stripe and the API speak the currency's **minor
unit** (cents for eur/usd, whole yen for jpy). Converting between them depends only
on the ISO 4217 exponent. No float is accepted anywhere: amounts are `int`, rates and
weights are `int`, `Decimal` or `Fraction`.

`split_largest_remainder` divides an amount in proportion to weights so that the parts
add up to the whole exactly (co-owner shares, pool allocation, commission): every
part gets the floor of its exact share, and the micros left over go one each to the
largest remainders, ties broken by a stable key, never at random.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, NamedTuple, TypeVar

from ledger.errors import LedgerError, LedgerErrorCode

MICROS_PER_UNIT = 1_000_000
MICROS_EXPONENT = 6

# ISO 4217 minor-unit exponents of the currencies Accord accepts. Stripe's own quirks
# (e.g. amounts in huf or twd that must be whole units for payouts) are the gateway's
# business; the books follow ISO.
CURRENCY_EXPONENTS: Mapping[str, int] = {
    # two decimals
    "aud": 2, "brl": 2, "cad": 2, "chf": 2, "cny": 2, "czk": 2, "dkk": 2, "eur": 2,
    "gbp": 2, "hkd": 2, "huf": 2, "ils": 2, "inr": 2, "mxn": 2, "nok": 2, "nzd": 2,
    "pln": 2, "ron": 2, "sek": 2, "sgd": 2, "try": 2, "twd": 2, "usd": 2, "zar": 2,
    # no decimals
    "clp": 0, "isk": 0, "jpy": 0, "krw": 0, "vnd": 0,
    # three decimals
    "bhd": 3, "jod": 3, "kwd": 3, "omr": 3, "tnd": 3,
}  # fmt: skip
SUPPORTED_CURRENCIES = frozenset(CURRENCY_EXPONENTS)

Key = TypeVar("Key", bound=Hashable)
Weight = int | Decimal | Fraction


class MinorRounding(NamedTuple):
    """An amount cut to whole minor units: what can be paid, and the micros left over."""

    payable_micros: int
    remainder_micros: int


def currency_validate(currency: str) -> str:
    """Return the currency code in lower case, or raise `currency_unsupported`."""
    code = currency.lower() if isinstance(currency, str) else ""
    if code not in CURRENCY_EXPONENTS:
        raise LedgerError(
            LedgerErrorCode.CURRENCY_UNSUPPORTED,
            f"Currency {currency!r} is not supported; use one of "
            f"{', '.join(sorted(SUPPORTED_CURRENCIES))}.",
            param="currency",
        )
    return code


def currency_exponent(currency: str) -> int:
    """Return how many decimals the currency's minor unit has (eur 2, jpy 0, kwd 3)."""
    return CURRENCY_EXPONENTS[currency_validate(currency)]


def minor_unit_micros(currency: str) -> int:
    """Return how many micros one minor unit is (10,000 for a cent, 1,000,000 for a yen)."""
    return 10 ** (MICROS_EXPONENT - currency_exponent(currency))


def _require_int(amount: object, name: str) -> int:
    # bool is an int subclass; True cents is a bug, not an amount.
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise TypeError(f"{name} must be an int, not {type(amount).__name__}")
    return amount


def minor_to_micros(amount_minor: int, currency: str) -> int:
    """Convert an amount in minor units (Stripe's `amount`) to micros, exactly."""
    return _require_int(amount_minor, "amount_minor") * minor_unit_micros(currency)


def micros_to_minor(amount_micros: int, currency: str) -> int:
    """Convert micros to minor units; raise ValueError if that would drop a fraction.

    Use `round_down_to_minor` first when a remainder is expected (payouts).
    """
    unit = minor_unit_micros(currency)
    if _require_int(amount_micros, "amount_micros") % unit:
        raise ValueError(f"{amount_micros} micros is not a whole number of {currency} minor units")
    return amount_micros // unit


def round_down_to_minor(amount_micros: int, currency: str) -> MinorRounding:
    """Cut an amount to whole minor units, toward zero; the remainder keeps the sign.

    `payable + remainder == amount` always holds, so nothing is lost: a payout pays
    `payable_micros` and the remainder stays on the creator's account.
    """
    unit = minor_unit_micros(currency)
    magnitude = abs(_require_int(amount_micros, "amount_micros"))
    payable = magnitude - magnitude % unit
    if amount_micros < 0:
        payable = -payable
    return MinorRounding(payable_micros=payable, remainder_micros=amount_micros - payable)


def decimal_minor_to_micros(
    amount_minor: Decimal | str | int, currency: str, *, rounding: str = ROUND_HALF_EVEN
) -> int:
    """Convert a decimal amount in minor units (`unit_amount_decimal` times units) to micros.

    Sub-micro fractions are rounded with `rounding` (banker's rounding unless told).
    """
    if isinstance(amount_minor, float):
        raise TypeError("amount_minor must be a Decimal, str or int, not float")
    try:
        value = Decimal(amount_minor) * minor_unit_micros(currency)
    except InvalidOperation as error:
        raise ValueError(f"{amount_minor!r} is not a decimal amount") from error
    if not value.is_finite():
        raise ValueError(f"{amount_minor!r} is not a finite amount")
    return int(value.quantize(Decimal(1), rounding=rounding))


def micros_format(amount_micros: int, currency: str) -> str:
    """Show micros for people: at least the currency's decimals, more only when needed."""
    exponent = currency_exponent(currency)
    sign = "-" if amount_micros < 0 else ""
    whole, fraction = divmod(abs(_require_int(amount_micros, "amount_micros")), MICROS_PER_UNIT)
    digits = f"{fraction:06d}".rstrip("0").ljust(exponent, "0")
    decimals = f".{digits}" if digits else ""
    return f"{sign}{whole:,}{decimals} {currency.upper()}"


def micros_minor_decimal(amount_micros: int, currency: str) -> str:
    """Micros as an exact decimal string in the currency's minor unit ("7205.4", "-0.25")."""
    unit = minor_unit_micros(currency)
    sign = "-" if amount_micros < 0 else ""
    whole, fraction = divmod(abs(_require_int(amount_micros, "amount_micros")), unit)
    digits = len(str(unit)) - 1
    text = f"{whole}.{fraction:0{digits}d}".rstrip("0").rstrip(".") if digits else str(whole)
    return f"{sign}{text}"


def _weight_fraction(key: object, weight: object) -> Fraction:
    if isinstance(weight, bool) or not isinstance(weight, int | Decimal | Fraction):
        raise TypeError(f"weight of {key!r} must be an int, Decimal or Fraction")
    value = Fraction(weight)
    if value < 0:
        raise ValueError(f"weight of {key!r} is negative")
    return value


def split_largest_remainder(
    total: int,
    weights: Mapping[Key, Weight],
    *,
    tie_break: Callable[[Key], Any] | None = None,
) -> dict[Key, int]:
    """Split `total` in proportion to `weights`; the parts always sum to `total`.

    Each part is the floor of its exact share (toward zero for a negative total); the
    units left over go, one each, to the largest fractional remainders. Equal
    remainders go to the smaller `tie_break(key)` (the key itself by default), so the
    result depends only on the weights, not on the mapping's order. A zero weight
    gets exactly zero. Raise ValueError when there is no positive weight.
    """
    _require_int(total, "total")
    fractions = {key: _weight_fraction(key, weight) for key, weight in weights.items()}
    weight_sum = sum(fractions.values(), Fraction(0))
    if weight_sum <= 0:
        raise ValueError("at least one weight must be positive")
    magnitude = abs(total)
    floors: dict[Key, int] = {}
    remainders: dict[Key, Fraction] = {}
    for key, weight in fractions.items():
        exact = magnitude * weight / weight_sum
        floors[key] = exact.numerator // exact.denominator
        remainders[key] = exact - floors[key]
    leftover = magnitude - sum(floors.values())
    # Each remainder is below one unit and they add up to `leftover`, so fewer than
    # len(weights) units are left and only keys with a positive remainder get one.
    assert 0 <= leftover < max(len(floors), 1), (leftover, len(floors))
    order_key = tie_break or (lambda key: key)
    by_remainder = sorted(floors, key=lambda key: (-remainders[key], order_key(key)))
    for key in by_remainder[:leftover]:
        floors[key] += 1
    sign = -1 if total < 0 else 1
    parts = {key: sign * floors[key] for key in weights}
    assert sum(parts.values()) == total
    return parts


def split_evenly(total: int, keys: Iterable[Key]) -> dict[Key, int]:
    """Split `total` into equal parts (differing by at most one micro), one per key."""
    return split_largest_remainder(total, dict.fromkeys(keys, 1))
