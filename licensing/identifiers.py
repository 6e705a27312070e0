"""Work identifiers: one normal form per identifier, so "unique where set" means something.

The same ISBN arrives as `0-306-40615-2`, `9780306406157` or `978-0-306-40615-7`; the
same DOI as `10.1000/XYZ`, `doi:10.1000/xyz` or `https://doi.org/10.1000/xyz`. Each is
reduced here to one canonical string before it is validated, stored, looked up in the
registry or compared for uniqueness. A malformed value raises Django's
`ValidationError`, which the API, the admin forms and the CSV import all show against
the field it came from.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.deconstruct import deconstructible

IDENTIFIER_KINDS: tuple[str, ...] = ("sha256", "isrc", "isbn", "doi", "url")
URL_LENGTH_MAX = 2000

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# ISO 3901: country (2 letters), registrant (3 alphanumerics), year (2 digits), 5 digits.
_ISRC = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}[0-9]{2}[0-9]{5}$")
# The DOI handbook: "10." + registrant code (4+ digits, dot-separated) + "/" + suffix.
_DOI = re.compile(r"^10\.\d{4,9}(\.\d+)*/\S+$")
_DOI_PREFIXES = ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "doi:")
_url_validator = URLValidator(schemes=["http", "https"])


def _sha256_normalize(raw: str) -> str:
    value = raw.strip().lower().removeprefix("sha256:")
    if not _SHA256.match(value):
        raise ValidationError("Enter 64 hexadecimal characters (a SHA-256 digest).", "invalid")
    return value


def _isrc_normalize(raw: str) -> str:
    value = re.sub(r"[\s-]", "", raw.strip().upper()).removeprefix("ISRC:")
    if not _ISRC.match(value):
        raise ValidationError("Enter an ISRC such as CC-XXX-YY-NNNNN (12 characters).", "invalid")
    return value


def _isbn10_check_digit(digits: str) -> str:
    total = sum((10 - position) * int(digit) for position, digit in enumerate(digits))
    check = (11 - total % 11) % 11
    return "X" if check == 10 else str(check)


def _isbn13_check_digit(digits: str) -> str:
    total = sum(int(digit) * (3 if position % 2 else 1) for position, digit in enumerate(digits))
    return str((10 - total % 10) % 10)


def _isbn_normalize(raw: str) -> str:
    """Return the ISBN-13 form; an ISBN-10 is converted so both spellings collide."""
    value = re.sub(r"[\s-]", "", raw.strip().upper()).removeprefix("ISBN:")
    if re.fullmatch(r"\d{9}[\dX]", value):
        if _isbn10_check_digit(value[:9]) != value[9]:
            raise ValidationError("This ISBN-10 has a wrong check digit.", "invalid")
        body = "978" + value[:9]
        return body + _isbn13_check_digit(body)
    if re.fullmatch(r"97[89]\d{10}", value):
        if _isbn13_check_digit(value[:12]) != value[12]:
            raise ValidationError("This ISBN-13 has a wrong check digit.", "invalid")
        return value
    raise ValidationError("Enter an ISBN-10 or ISBN-13.", "invalid")


def _doi_normalize(raw: str) -> str:
    value = raw.strip()
    for prefix in _DOI_PREFIXES:
        if value.lower().startswith(prefix):
            value = value[len(prefix) :]
            break
    # DOIs are case-insensitive (DOI handbook 2.4): one case makes uniqueness real.
    value = value.lower()
    if not _DOI.match(value) or len(value) > 500:
        raise ValidationError("Enter a DOI such as 10.1000/xyz123.", "invalid")
    return value


def _url_normalize(raw: str) -> str:
    value = raw.strip()
    if len(value) > URL_LENGTH_MAX:
        raise ValidationError(f"Enter a URL of at most {URL_LENGTH_MAX} characters.", "invalid")
    _url_validator(value)
    parts = urlsplit(value)
    # Scheme and host are case-insensitive; path and query are not.
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, "")
    )


_NORMALIZERS: dict[str, Callable[[str], str]] = {
    "sha256": _sha256_normalize,
    "isrc": _isrc_normalize,
    "isbn": _isbn_normalize,
    "doi": _doi_normalize,
    "url": _url_normalize,
}


def identifier_normalize(kind: str, raw: str) -> str:
    """Return the canonical form of one identifier, or raise `ValidationError`."""
    assert kind in _NORMALIZERS, kind
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationError("Enter a value.", "invalid")
    return _NORMALIZERS[kind](raw)


def identifiers_normalize(raw: dict[str, str | None]) -> dict[str, str | None]:
    """Normalize a mapping of identifiers; errors are keyed by identifier kind."""
    normalized: dict[str, str | None] = {}
    errors: dict[str, list[ValidationError]] = {}
    for kind in IDENTIFIER_KINDS:
        value = raw.get(kind)
        if value is None or (isinstance(value, str) and not value.strip()):
            normalized[kind] = None
            continue
        try:
            normalized[kind] = identifier_normalize(kind, value)
        except ValidationError as error:
            errors[kind] = error.error_list
    if errors:
        raise ValidationError(errors)
    return normalized


@deconstructible
class CanonicalIdentifierValidator:
    """A model-field validator: accept only values already in canonical form."""

    def __init__(self, kind: str) -> None:
        assert kind in _NORMALIZERS, kind
        self.kind = kind

    def __call__(self, value: str) -> None:
        if identifier_normalize(self.kind, value) != value:
            raise ValidationError(f"Not the canonical form of this {self.kind}.", "invalid")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CanonicalIdentifierValidator) and other.kind == self.kind

    def __hash__(self) -> int:
        return hash(self.kind)


def identifier_parse(token: str) -> tuple[str, str]:
    """Split a `kind:value` token (as usage events may name a work) and normalize it.

    `url:https://…` keeps everything after the first colon, so the URL's own colon
    survives.
    """
    kind, separator, value = token.partition(":")
    if not separator or kind not in _NORMALIZERS:
        raise ValidationError(
            "Name a work as kind:value, kind being one of " + ", ".join(IDENTIFIER_KINDS) + ".",
            "invalid",
        )
    return kind, identifier_normalize(kind, value)
