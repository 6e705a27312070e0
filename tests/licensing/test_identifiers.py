"""Identifiers have one canonical form each, so "unique where set" means what it says."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from licensing.identifiers import identifier_normalize, identifier_parse, identifiers_normalize

SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


@pytest.mark.parametrize(
    ("kind", "raw", "canonical"),
    [
        ("sha256", SHA.upper(), SHA),
        ("sha256", f"sha256:{SHA}", SHA),
        ("isrc", "us-rc1-76-07839", "USRC17607839"),
        ("isrc", "USRC17607839", "USRC17607839"),
        ("isbn", "0-306-40615-2", "9780306406157"),
        ("isbn", "978-0-306-40615-7", "9780306406157"),
        ("isbn", "080442957X", "9780804429573"),
        ("doi", "10.1000/XYZ123", "10.1000/xyz123"),
        ("doi", "https://doi.org/10.1000/xyz123", "10.1000/xyz123"),
        ("doi", "doi:10.1000/xyz123", "10.1000/xyz123"),
        ("url", "HTTPS://Example.COM/Path?q=1#frag", "https://example.com/Path?q=1"),
        ("url", "https://example.com", "https://example.com/"),
    ],
)
def test_each_identifier_has_one_canonical_form(kind: str, raw: str, canonical: str) -> None:
    assert identifier_normalize(kind, raw) == canonical
    # Normalizing is idempotent: the canonical form is its own canonical form.
    assert identifier_normalize(kind, canonical) == canonical


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        ("sha256", "abc"),
        ("sha256", "z" * 64),
        ("isrc", "USRC1760783"),
        ("isrc", "1SRC17607839"),
        ("isbn", "0-306-40615-3"),
        ("isbn", "978-0-306-40615-8"),
        ("isbn", "12345"),
        ("doi", "11.1000/xyz"),
        ("doi", "10.12/xyz"),
        ("url", "ftp://example.com/file"),
        ("url", "not a url"),
        ("url", "https://example.com/" + "a" * 2000),
        ("isrc", "   "),
    ],
)
def test_malformed_identifiers_are_refused(kind: str, raw: str) -> None:
    with pytest.raises(ValidationError):
        identifier_normalize(kind, raw)


def test_errors_are_keyed_by_identifier() -> None:
    with pytest.raises(ValidationError) as raised:
        identifiers_normalize({"isrc": "nope", "isbn": "9780306406157", "doi": "bad"})
    assert set(raised.value.message_dict) == {"isrc", "doi"}


def test_a_work_can_be_named_by_kind_and_value() -> None:
    assert identifier_parse("isbn:0-306-40615-2") == ("isbn", "9780306406157")
    assert identifier_parse("url:https://example.com/a") == ("url", "https://example.com/a")
    with pytest.raises(ValidationError):
        identifier_parse("ean:123")
