"""The admin login locks out after repeated wrong passwords (issue 13, finding 6).

Forty wrong passwords in a row were all answered. Now, after `AXES_FAILURE_LIMIT`
failures for one username or from one address, django-axes refuses every login for
it, the right password included, until staff reset it.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _cheap_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff():
    return get_user_model().objects.create_user(
        username="finance-ann", password=PASSWORD, is_staff=True, is_superuser=True
    )


def _login(username: str, password: str, *, address: str = "192.0.2.10") -> int:
    """Post the admin's login form; 302 means logged in, 200 the form again, 429 locked."""
    response = Client(REMOTE_ADDR=address).post(
        "/admin/login/?next=/admin/", {"username": username, "password": password}
    )
    return response.status_code


def test_forty_wrong_passwords_lock_the_user_out_and_the_41st_is_refused(staff, settings) -> None:
    limit = settings.AXES_FAILURE_LIMIT
    assert 1 < limit < 40
    statuses = [_login(staff.username, f"guess-{n}") for n in range(40)]

    assert statuses[: limit - 1] == [200] * (limit - 1)  # the form again, with its error
    assert set(statuses[limit:]) == {429}
    # The 41st attempt, with the right password, from the same address: refused.
    assert _login(staff.username, PASSWORD) == 429


def test_a_lockout_holds_per_user_and_per_address(staff, settings) -> None:
    other = get_user_model().objects.create_user(
        username="finance-bo", password=PASSWORD, is_staff=True, is_superuser=True
    )
    for n in range(settings.AXES_FAILURE_LIMIT):
        _login(staff.username, f"guess-{n}", address="192.0.2.10")

    # Per user: the right password from another address is refused too.
    assert _login(staff.username, PASSWORD, address="198.51.100.20") == 429
    # Per address: another user from the guessing address is refused.
    assert _login(other.username, PASSWORD, address="192.0.2.10") == 429
    # Neither limit touches another user at another address.
    assert _login(other.username, PASSWORD, address="203.0.113.30") == 302


def test_staff_unlock_with_axes_reset_then_the_right_password_works(staff, settings) -> None:
    for n in range(settings.AXES_FAILURE_LIMIT):
        _login(staff.username, f"guess-{n}")
    assert _login(staff.username, PASSWORD) == 429

    call_command("axes_reset_username", staff.username)
    call_command("axes_reset_ip", "192.0.2.10")

    assert _login(staff.username, PASSWORD) == 302


def test_a_correct_login_resets_the_count(staff, settings) -> None:
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(staff.username, f"guess-{n}")
    assert _login(staff.username, PASSWORD) == 302
    assert _login(staff.username, "one-more-typo") == 200
