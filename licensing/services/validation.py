"""The checks and markers that the catalogue's services share."""

from __future__ import annotations

from typing import Final

from licensing.currencies import currency_is_supported
from licensing.errors import LicensingError, LicensingErrorCode


class Unset:
    """Marks an argument the caller left out (None is a value: "clear this field")."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset()

SHARES_MAX = 100
COLLECTION_WORKS_MAX = 10_000
TITLE_LENGTH_MAX = 300
UNIT_PRICE_INTEGER_DIGITS_MAX = 12
UNIT_PRICE_DECIMAL_PLACES_MAX = 12
TERM_DAYS_MAX = 36_500


def invalid(code: LicensingErrorCode, message: str, param: str | None) -> LicensingError:
    return LicensingError(code, message, param=param)


def currency_check(currency: str, *, param: str) -> str:
    if not isinstance(currency, str) or not currency_is_supported(currency.lower()):
        raise invalid(
            LicensingErrorCode.CURRENCY_UNSUPPORTED,
            f"Currency {currency!r} is not supported; use an ISO 4217 code we pay out in.",
            param,
        )
    return currency.lower()


def title_check(title: str) -> str:
    title = (title or "").strip() if isinstance(title, str) else ""
    if not title or len(title) > TITLE_LENGTH_MAX:
        raise invalid(
            LicensingErrorCode.PARAMETER_INVALID,
            f"Give a title of 1 to {TITLE_LENGTH_MAX} characters.",
            "title",
        )
    return title
