"""Bootstrap commands: create_creator, create_finance_user, create_api_key."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from licensing.models import ApiKey, Creator
from licensing.selectors.api_keys import KEY_PREFIX, api_key_resolve

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_creator_makes_a_scoped_portal_login(db) -> None:
    output = _run("create_creator", "ada", "--email", "ada@example.com", "--password", "pw-123456",
                  "--currency", "GBP")  # fmt: skip

    creator = Creator.objects.get(user__username="ada")
    assert output.strip() == creator.public_id
    assert creator.payout_currency == "gbp"
    assert creator.user.is_staff
    assert not creator.user.is_superuser
    assert creator.user.check_password("pw-123456")
    assert creator.user.has_perm("licensing.add_work")


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("create_creator", "ada", "--currency", "xyz"), "Currency 'xyz' is not supported"),
        (("create_creator", "taken"), "User 'taken' already exists"),
        (("create_finance_user", "taken"), "User 'taken' already exists"),
        (("create_api_key", "--creator", "nobody"), "no creator with username 'nobody'"),
        (("create_api_key", "--finance", "nobody"), "no user 'nobody'"),
        (("create_api_key", "--finance", "taken"), "'taken' is not a finance user"),
        (("create_api_key", "--org", "acme"), "no organisation 'acme'"),
    ],
)
def test_bad_input_fails_with_a_one_line_reason(db, args, reason) -> None:
    get_user_model().objects.create_user("taken")

    with pytest.raises(CommandError) as raised:
        _run(*args)

    assert reason in str(raised.value)
    assert "\n" not in str(raised.value)
    assert not Creator.objects.filter(user__username="ada").exists()


def test_create_api_key_prints_only_the_key(db) -> None:
    _run("create_creator", "ada")
    _run("create_finance_user", "fin", "--password", "pw-123456")

    creator_key = _run("create_api_key", "--creator", "ada")
    finance_key = _run("create_api_key", "--finance", "fin")

    for output, kind in ((creator_key, "creator"), (finance_key, "finance")):
        assert output.endswith("\n")
        key = output.strip()
        assert key.startswith(KEY_PREFIX)
        assert len(output.splitlines()) == 1
        principal, _ = api_key_resolve(key)
        assert principal.kind == kind
    assert ApiKey.objects.count() == 2


def test_the_commands_exit_non_zero_from_the_shell(db, capsys) -> None:
    from django.core.management import execute_from_command_line

    with pytest.raises(SystemExit) as exited:
        execute_from_command_line(["manage.py", "create_api_key", "--org", "acme"])

    assert exited.value.code != 0
    assert "no organisation 'acme'" in capsys.readouterr().err
