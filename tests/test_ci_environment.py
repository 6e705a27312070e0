"""CI must prove that the suite ran on the real services, not on the embedded defaults."""

import os

import pytest
from django.conf import settings
from django.db import connection


@pytest.mark.django_db
def test_ci_runs_on_postgresql_and_redis() -> None:
    if os.environ.get("CI") != "true":
        pytest.skip("only meaningful under CI=true, where .ci/run sets the real services")
    import redis

    assert connection.vendor == "postgresql"
    assert settings.REDIS_URL
    assert redis.Redis.from_url(settings.REDIS_URL).ping()
    assert settings.CELERY_TASK_ALWAYS_EAGER is False


class _Item:
    """Just enough of a pytest item for the skip rules: its markers by name."""

    def __init__(self, *markers: str) -> None:
        self.markers = set(markers)

    def get_closest_marker(self, name: str) -> object:
        return name if name in self.markers else None


@pytest.mark.parametrize(
    ("env", "markers", "forbidden_by"),
    [
        ({"CI": "true"}, ["browser"], "CI=true"),
        ({"CI": "true"}, ["postgres"], None),  # a SQLite run under CI may still skip these
        ({}, ["browser"], None),
        ({"ACCORD_REQUIRE_SERVICES": "1"}, ["postgres"], "ACCORD_REQUIRE_SERVICES=1"),
        ({"ACCORD_REQUIRE_SERVICES": "1"}, ["browser"], "ACCORD_REQUIRE_SERVICES=1"),
    ],
)
def test_a_browser_test_may_not_skip_under_ci(monkeypatch, env, markers, forbidden_by) -> None:
    from tests.conftest import _skip_forbidden_by

    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("ACCORD_REQUIRE_SERVICES", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert _skip_forbidden_by(_Item(*markers)) == forbidden_by


def test_without_chromium_a_browser_test_gives_its_reason(monkeypatch) -> None:
    import tests.conftest as suite

    monkeypatch.setattr(suite, "CHROMIUM_PATH", "/nonexistent/chromium")
    assert "requires Chromium" in suite._missing_service_reason(_Item("browser"))
