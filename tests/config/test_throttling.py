"""Rate limits: exact counts per key and per address, 429 with Retry-After."""

from __future__ import annotations

import pytest
from django.test import Client

from config.api.throttling import parse_rate, window_hit
from tests.config.views_for_tests import OTHER_TEST_API_KEY, TEST_API_KEY

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.config.urls_for_tests")]


@pytest.mark.parametrize(
    ("rate", "expected"), [("5/s", (5, 1)), ("600/min", (600, 60)), ("10000/h", (10000, 3600))]
)
def test_parse_rate(rate: str, expected: tuple[int, int]) -> None:
    assert parse_rate(rate) == expected


@pytest.mark.parametrize("rate", ["0/s", "ten/min", "5/fortnight", "5"])
def test_parse_rate_rejects_nonsense(rate: str) -> None:
    with pytest.raises(ValueError, match="is not of the form"):
        parse_rate(rate)


def test_window_counts_exactly_and_says_how_long_to_wait() -> None:
    now = 1_000_000.25  # a quarter second into a one-minute window starting at 999_960
    results = [window_hit("t", limit=3, window_seconds=60, now=now) for _ in range(5)]
    assert results[:3] == [None, None, None]
    assert results[3] == pytest.approx(59.75 - 40)
    assert window_hit("t", limit=3, window_seconds=60, now=now + 60) is None


def test_each_key_has_its_own_count_and_the_429_has_retry_after(settings, one_rate_window) -> None:
    settings.ACCORD_RATE_LIMITS = {"default": "3/min"}
    first_tenant = Client(HTTP_AUTHORIZATION=f"Bearer {TEST_API_KEY}")
    second_tenant = Client(HTTP_AUTHORIZATION=f"Bearer {OTHER_TEST_API_KEY}")

    statuses = [first_tenant.get("/api/v1/_test/authenticated").status_code for _ in range(4)]
    other = second_tenant.get("/api/v1/_test/authenticated")

    assert statuses == [200, 200, 200, 429]
    assert other.status_code == 200
    limited = first_tenant.get("/api/v1/_test/authenticated")
    assert limited.json()["error"]["code"] == "rate_limited"
    assert limited.json()["error"]["type"] == "rate_limit_error"
    assert 1 <= int(limited["Retry-After"]) <= 60


def test_public_endpoints_count_per_client_address(settings, one_rate_window) -> None:
    settings.ACCORD_RATE_LIMITS = {"default": "100/min", "public": "2/min"}
    first = Client(REMOTE_ADDR="192.0.2.1")
    second = Client(REMOTE_ADDR="192.0.2.2")

    statuses = [first.get("/api/v1/_test/public").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    assert second.get("/api/v1/_test/public").status_code == 200


def test_forwarded_address_counts_only_behind_trusted_proxies(settings, one_rate_window) -> None:
    settings.ACCORD_RATE_LIMITS = {"default": "100/min", "public": "1/min"}
    spoofing = Client(REMOTE_ADDR="192.0.2.9")
    assert (
        spoofing.get("/api/v1/_test/public", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 200
    )
    assert (
        spoofing.get("/api/v1/_test/public", HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 429
    )

    settings.ACCORD_TRUSTED_PROXY_COUNT = 1
    behind_proxy = Client(REMOTE_ADDR="10.0.0.1")
    assert (
        behind_proxy.get("/api/v1/_test/public", HTTP_X_FORWARDED_FOR="198.51.100.3").status_code
        == 200
    )
    assert (
        behind_proxy.get("/api/v1/_test/public", HTTP_X_FORWARDED_FOR="198.51.100.4").status_code
        == 200
    )


@pytest.mark.redis
def test_counts_live_in_redis_so_processes_share_them(settings) -> None:
    import redis

    settings.ACCORD_RATE_LIMITS = {"default": "100/min", "public": "1/min"}
    Client(REMOTE_ADDR="192.0.2.50").get("/api/v1/_test/public")
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    keys = redis.Redis.from_url(settings.REDIS_URL).keys(
        f"{prefix}:*ratelimit:public:address:192.0.2.50:*"
    )
    assert len(keys) == 1


@pytest.mark.redis
def test_a_count_in_redis_is_exact_and_expires_after_its_window(settings) -> None:
    import redis

    # The window is [960, 1020): the third request waits for its end.
    assert window_hit("ttl-check", limit=2, window_seconds=60, now=1_000.0) is None
    assert window_hit("ttl-check", limit=2, window_seconds=60, now=1_001.0) is None
    assert window_hit("ttl-check", limit=2, window_seconds=60, now=1_002.0) == 18.0
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    server = redis.Redis.from_url(settings.REDIS_URL)
    (key,) = server.keys(f"{prefix}:*ratelimit:ttl-check:960")
    assert int(server.get(key)) == 3
    # The window's key dies a little after the window (60 s + 5 s), never lives on.
    assert 60 <= server.ttl(key) <= 65
