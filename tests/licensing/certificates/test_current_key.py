"""Which signing key is current: read once every few seconds per process, committed keys only."""

from __future__ import annotations

import pytest
from django.db import transaction

from licensing.certificates import keys
from licensing.certificates.models import SigningKey

pytestmark = pytest.mark.django_db


class _RolledBack(Exception):
    pass


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The cache's clock, moved by the test: `clock[0] += seconds`."""
    now = [1_000.0]
    monkeypatch.setattr(keys, "_clock", lambda: now[0])
    return now


def test_another_process_rotation_applies_once_the_seconds_are_up(
    clock, django_capture_on_commit_callbacks, django_assert_num_queries
) -> None:
    first = keys.signing_key_rotate()
    with django_capture_on_commit_callbacks(execute=True):
        assert keys.signing_key_current()[0] == first.kid
    # Rotated as another process would: this process's on-commit hook does not run.
    second = keys.signing_key_rotate()

    with django_assert_num_queries(0):
        assert keys.signing_key_current()[0] == first.kid
    clock[0] += keys.CURRENT_KEY_SECONDS - 0.001
    assert keys.signing_key_current()[0] == first.kid
    clock[0] += 0.001

    assert keys.signing_key_current()[0] == second.kid


def test_a_rotation_in_this_process_applies_at_once(
    clock, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = keys.signing_key_current()[0]
        second = keys.signing_key_rotate()

    assert second.kid != first
    assert keys.signing_key_current()[0] == second.kid


def test_a_key_read_in_a_transaction_that_rolled_back_is_not_kept(
    clock, django_capture_on_commit_callbacks
) -> None:
    def sign_then_roll_back() -> str:
        with transaction.atomic():
            made = keys.signing_key_current()[0]  # no key yet: the first is made here
            raise _RolledBack(made)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(_RolledBack) as rolled:
        sign_then_roll_back()

    kid = keys.signing_key_current()[0]

    assert kid != rolled.value.args[0]
    assert list(SigningKey.objects.values_list("kid", flat=True)) == [kid]
