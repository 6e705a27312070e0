"""The currencies the catalogue accepts for prices and payouts, with their minor units.

Prices are stored in the currency's minor unit (cents for EUR), so the catalogue needs
each currency's exponent to show a price in major units (RSL's `<amount>` is written
that way); the exponents come from `ledger.money`, the one module that owns money
units. The set is deliberately smaller than the ledger's: every currency here must
also be one that Stripe Connect pays out in, and adding one is a decision (and a
migration of the currency choices), not a typo.
"""

from __future__ import annotations

from decimal import Decimal

from ledger.money import CURRENCY_EXPONENTS

# The ISO 4217 codes (lower case, as API.md writes them) the catalogue prices and pays
# in, a subset of what the books can hold; the exponents are the ledger's, so the
# books and the catalogue never disagree on what a minor unit is.
_CATALOGUE_CURRENCIES = (
    "eur",
    "usd",
    "gbp",
    "chf",
    "cad",
    "aud",
    "sek",
    "nok",
    "dkk",
    "pln",
    "jpy",
)
SUPPORTED_CURRENCIES: dict[str, int] = {
    code: CURRENCY_EXPONENTS[code] for code in _CATALOGUE_CURRENCIES
}

CURRENCY_CHOICES = [(code, code.upper()) for code in SUPPORTED_CURRENCIES]

# What Stripe can charge to a card in one payment, in minor units: the least per
# currency, and at most eight digits in every currency here. Source: Stripe's
# "Minimum and maximum charge amounts",
# https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts (docs/licensees.md).
CARD_CHARGE_MINIMUM: dict[str, int] = {
    "eur": 50,
    "usd": 50,
    "gbp": 30,
    "chf": 50,
    "cad": 50,
    "aud": 50,
    "sek": 300,
    "nok": 300,
    "dkk": 250,
    "pln": 200,
    "jpy": 50,
}
CARD_CHARGE_MAXIMUM = 99_999_999
assert set(CARD_CHARGE_MINIMUM) == set(SUPPORTED_CURRENCIES), "a minimum for every currency"


def currency_is_supported(code: str) -> bool:
    return code in SUPPORTED_CURRENCIES


def minor_to_major(amount_minor: Decimal | int, currency: str) -> Decimal:
    """Express an amount in minor units (possibly fractional) in major units, exactly."""
    exponent = SUPPORTED_CURRENCIES[currency]
    return Decimal(amount_minor).scaleb(-exponent)


def major_amount_format(amount_minor: Decimal | int, currency: str) -> str:
    """Write a minor-unit amount as a plain major-unit decimal string ("12.50")."""
    exponent = SUPPORTED_CURRENCIES[currency]
    major = minor_to_major(amount_minor, currency)
    if isinstance(amount_minor, int):
        return f"{major:.{exponent}f}"
    # Per-unit prices can be fractions of a cent: keep every significant digit.
    text = format(major.normalize(), "f")
    if "." in text:
        whole, fraction = text.split(".")
        fraction = fraction.ljust(exponent, "0")
        return f"{whole}.{fraction}" if fraction else whole
    return f"{text}.{'0' * exponent}" if exponent else text
