"""config.api.ids: public ids are a prefix and 20 characters drawn evenly from 62."""

from __future__ import annotations

import string
from collections import Counter

import pytest

from config.api import ids


def test_an_id_is_its_prefix_and_twenty_letters_or_digits() -> None:
    minted = ids.public_id("lic")

    prefix, random_part = minted.split("_")
    assert prefix == "lic"
    assert len(random_part) == 20
    assert set(random_part) <= set(string.ascii_letters + string.digits)
    assert ids.public_id("lic") != minted


def test_a_draw_with_too_many_rejected_bytes_draws_again(monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter([bytes([255] * 20 + [0, 1, 2, 61]), bytes(range(24))])
    monkeypatch.setattr(ids.secrets, "token_bytes", lambda count: next(draws))

    assert ids.public_id("wrk") == "wrk_abc9abcdefghijklmnop"


def test_the_first_characters_are_not_favoured() -> None:
    counts = Counter("".join(ids.public_id("x")[2:] for _ in range(3_100)))

    # 62,000 characters, 1,000 expected of each. Taking every byte modulo 62 would draw
    # the first 8 (256 % 62) 5 times in 256 instead of 4: about 1,210 each. Their mean
    # varies by about 11 when drawn evenly.
    first = [counts[character] for character in string.ascii_letters[:8]]
    assert len(counts) == 62
    assert sum(first) / len(first) < 1_080
