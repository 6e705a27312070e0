"""Money and dates as people write them: the one place the portal turns amounts into text.

The books keep integer micros and the API speaks Stripe's minor units; a person reads
`£12.50`, `€1,234.56`, and a per-token rate as `€0.000003`. Every page that shows an
amount (the portal's offers, versions, purchases, licenses and balances; later
statements, invoices and payouts) goes through these functions, or through the
template filters in `ledger/templatetags/display.py` that wrap them, so a price is
written the same way everywhere and no page does its own arithmetic on units.

Babel (CLDR's data) writes the symbol and the grouping. The amount itself is always an
exact `Decimal` built from the integer by moving the decimal point (`scaleb`), never a
float. Amounts show the currency's own decimals (two for EUR, none for JPY); a rate or
a sub-cent balance keeps every significant digit beyond them, because rounding a
per-token price of 0.000003 to "€0.00" would say it is free.

The inverse, `minor_from_major`, is how a form turns "12.50" typed in pounds into 1250
pence, refusing digits the currency cannot hold instead of rounding them away.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from babel.numbers import format_currency
from django.utils import timezone

from ledger.money import MICROS_EXPONENT, currency_exponent

# CLDR's English: `€1,234.56`, `£12.50`, `CHF 12.50`. One locale for the whole portal
# until the portal is translated; the figures must read the same on every page.
DISPLAY_LOCALE = "en"
# Digits a per-unit price may carry past the minor unit (OfferVersion keeps 12).
RATE_DECIMALS_MAX = 12


class AmountNotRepresentable(ValueError):
    """A major-unit amount has more decimals than the currency's minor unit holds."""


def _decimal(value: int | Decimal | str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise TypeError(f"an amount must be an int or a Decimal, not {type(value).__name__}")
    return Decimal(value)


def _symbol_spaced(text: str) -> str:
    # Babel writes `CHF12.50`; CLDR's currency spacing puts a space after a symbol made
    # of letters, so it reads `CHF 12.50` (a no-break space keeps the two together).
    head = text.lstrip("-")
    index = len(text) - len(head)
    cut = next((position for position, char in enumerate(head) if not char.isalpha()), 0)
    if cut and head[cut - 1].isalpha() and (head[cut].isdigit()):
        return f"{text[:index]}{head[:cut]}\u00a0{head[cut:]}"
    return text


def money_from_major(amount_major: Decimal, currency: str) -> str:
    """Write an exact major-unit amount with its symbol, keeping digits past the minor unit."""
    # Babel pads to the currency's decimals (12.5 -> 12.50) and, unquantized, keeps the
    # digits past them; normalizing drops the trailing zeros of a 12-place rate.
    major = _decimal(amount_major).normalize() + 0  # "+ 0" turns -0 into 0
    text = format_currency(
        major, currency.upper(), locale=DISPLAY_LOCALE, decimal_quantization=False
    )
    return _symbol_spaced(text)


def money_from_minor(amount_minor: int | Decimal, currency: str) -> str:
    """Write an amount in the currency's minor unit (API and catalogue prices): 1250 -> £12.50.

    A `Decimal` may be a fraction of the minor unit (a per-unit rate, 0.0003 cents);
    every significant digit is kept.
    """
    return money_from_major(_decimal(amount_minor).scaleb(-currency_exponent(currency)), currency)


def money_from_micros(amount_micros: int, currency: str) -> str:
    """Write an amount in the books' micros (balances, ledger entries): 1234560000 -> €1,234.56."""
    if isinstance(amount_micros, bool) or not isinstance(amount_micros, int):
        raise TypeError("micros are an int")
    return money_from_major(Decimal(amount_micros).scaleb(-MICROS_EXPONENT), currency)


def minor_from_major(amount_major: Decimal | str, currency: str) -> int:
    """Turn an amount typed in major units into whole minor units: "12.50" GBP -> 1250.

    Raise `AmountNotRepresentable` for digits past the minor unit (12.505 EUR): a price
    is never rounded behind its owner's back.
    """
    minor = _major_scaled(amount_major, currency)
    if minor != minor.to_integral_value():
        raise AmountNotRepresentable(
            f"{currency.upper()} has {currency_exponent(currency)} decimal places."
        )
    return int(minor)


def minor_decimal_from_major(amount_major: Decimal | str, currency: str) -> Decimal:
    """Turn a per-unit rate typed in major units into the minor unit, fractions kept."""
    minor = _major_scaled(amount_major, currency)
    if minor != minor.quantize(Decimal(1).scaleb(-RATE_DECIMALS_MAX), rounding="ROUND_DOWN"):
        places = RATE_DECIMALS_MAX + currency_exponent(currency)
        raise AmountNotRepresentable(f"A rate in {currency.upper()} has at most {places} decimals.")
    return minor.normalize() if minor else Decimal(0)


def major_from_minor(amount_minor: int | Decimal, currency: str) -> Decimal:
    """The exact major-unit value of a minor-unit amount, for a form's initial value."""
    exponent = currency_exponent(currency)
    major = _decimal(amount_minor).scaleb(-exponent).normalize() + 0
    if major.as_tuple().exponent > -exponent:
        return major.quantize(Decimal(1).scaleb(-exponent))  # 12.5 -> 12.50, 10 -> 10.00
    return major


def _major_scaled(amount_major: Decimal | str, currency: str) -> Decimal:
    try:
        major = _decimal(amount_major)
    except InvalidOperation:
        raise AmountNotRepresentable("Not a number.") from None
    if not major.is_finite():
        raise AmountNotRepresentable("Not a number.")
    return major.scaleb(currency_exponent(currency))


def date_words(value: datetime.date | datetime.datetime | None) -> str:
    """A date as people write it: 3 December 2026 (in UTC for an aware datetime)."""
    if value is None:
        return "—"
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        value = value.astimezone(datetime.UTC)
    return f"{value.day} {value:%B %Y}"


def datetime_words(value: datetime.datetime | None) -> str:
    """A moment as people write it: 3 December 2026, 10:42 UTC."""
    if value is None:
        return "—"
    if timezone.is_aware(value):
        value = value.astimezone(datetime.UTC)
    return f"{date_words(value)}, {value:%H:%M} UTC"
