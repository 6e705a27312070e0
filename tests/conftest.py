"""Suite-wide fixtures and the rules for tests that need the real services.

A test marked `postgres`, `redis`, `worker` or `browser` is skipped, with its reason,
where that service is missing; with `ACCORD_REQUIRE_SERVICES=1` (set by `.ci/run`) the
same test fails instead, so CI can never go green by skipping them. A browser test also
fails under `CI=true` alone: any CI runner sets it, and a CI that lost its Chromium must
say so rather than pass without ever opening the portal.
"""

from __future__ import annotations

import os
import shutil
import uuid

import pytest
from django.conf import settings
from hypothesis import settings as hypothesis_settings

# Hypothesis's default 200 ms deadline fails examples on a loaded 2-core machine for
# no fault of the code; the suite's tests bound their own work instead.
hypothesis_settings.register_profile("accord", deadline=None)
hypothesis_settings.load_profile("accord")

pytest_plugins = ["tests.fixtures.stripe_sandbox", "tests.simulation.plugin"]

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def _uses_postgresql() -> bool:
    return "postgresql" in settings.DATABASES["default"]["ENGINE"]


def _missing_service_reason(item: pytest.Item) -> str | None:
    if item.get_closest_marker("postgres") and not _uses_postgresql():
        return "requires PostgreSQL: set DATABASE_URL=postgres://..."
    needs_redis = item.get_closest_marker("redis") or item.get_closest_marker("worker")
    if needs_redis and not settings.REDIS_URL:
        return "requires Redis: set REDIS_URL=redis://..."
    if item.get_closest_marker("browser") and not shutil.which(CHROMIUM_PATH):
        return f"requires Chromium at {CHROMIUM_PATH} (Debian packages chromium, chromium-driver)"
    return None


def _skip_forbidden_by(item: pytest.Item) -> str | None:
    if os.environ.get("ACCORD_REQUIRE_SERVICES") == "1":
        return "ACCORD_REQUIRE_SERVICES=1"
    if item.get_closest_marker("browser") and os.environ.get("CI", "").lower() in ("true", "1"):
        return "CI=true"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    reason = _missing_service_reason(item)
    if reason is None:
        return
    forbidden_by = _skip_forbidden_by(item)
    if forbidden_by:
        pytest.fail(f"{reason} ({forbidden_by} forbids skipping it)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _isolated_cache(settings: object) -> None:
    """Start every test with an empty cache, without flushing a Redis others share."""
    from django.core.cache import cache

    if settings.REDIS_URL:
        # A fresh key prefix is an empty cache; FLUSHDB would hit other workers too.
        settings.CACHES = {
            "default": {
                **settings.CACHES["default"],
                "KEY_PREFIX": f"accord-test-{uuid.uuid4().hex}",
            }
        }
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def _process_caches_empty() -> None:
    """Start every test without the rows an earlier test's process caches remember.

    The ledger's accounts and the current signing key are cached per process once a
    transaction committed them; a transactional test's flush empties the tables under
    them, and a test that runs on-commit callbacks inside its rolled-back transaction
    caches rows that never were.
    """
    from ledger.account_cache import account_cache_clear
    from licensing.certificates.keys import signing_key_cache_clear

    account_cache_clear()
    signing_key_cache_clear()


@pytest.fixture
def one_rate_window(monkeypatch: pytest.MonkeyPatch) -> float:
    """Pin the rate limiter's clock so a test's requests all fall in one window.

    A test that counts N requests against an N/min limit fails whenever the minute
    turns between its requests (the count starts again); the pinned instant is now.
    """
    import time
    import types

    from config.api import throttling

    pinned = time.time()
    monkeypatch.setattr(throttling, "time", types.SimpleNamespace(time=lambda: pinned))
    return pinned


@pytest.fixture(autouse=True)
def _celery_eager_unless_worker(request: pytest.FixtureRequest) -> object:
    """Run tasks in the test's process, except in tests that start a real worker.

    With a broker configured, a task sent from a test would otherwise wait for a
    worker that is not there; `worker` tests exercise the broker for real.
    """
    from config.celery import app

    eager = request.node.get_closest_marker("worker") is None
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = eager
    yield
    app.conf.task_always_eager = previous
