"""Redis unreachable: reads go on, writes are 503 with Retry-After (issue 13, finding 9).

The cache points at a port where a socket is bound but not listening, so every
connection is really refused, as when Redis has died; nothing is mocked. The policy
(docs/operations.md): safe methods are served without rate limits or public caching,
API writes are refused with `503 rate_limiter_unavailable` and write nothing.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from django.test import Client

from licensing.models import License, Work
from licensing.services.works import work_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_unreachable(settings) -> Iterator[str]:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    url = f"redis://127.0.0.1:{closed.getsockname()[1]}/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 1.0, "socket_timeout": 1.0},
        }
    }
    settings.ACCORD_RATE_LIMITS = {"default": "5/min", "public": "5/min", "invalid_key": "5/min"}
    yield url
    closed.close()


def test_reads_are_served_without_the_limiter(small_world, redis_unreachable) -> None:
    licensee = small_world.client("organization")
    public = Client(raise_request_exception=False)

    # More reads than the configured rate: nothing can count them, nothing refuses them.
    statuses = [licensee.get("/api/v1/works").status_code for _ in range(7)]
    work = licensee.get(f"/api/v1/works/{small_world.work.public_id}")
    registry = public.get("/api/v1/registry", {"sha256": "b" * 64})
    page = public.get(f"/works/{small_world.work.public_id}/license.xml")
    keys = public.get("/.well-known/accord-keys.json")

    assert statuses == [200] * 7
    assert work.status_code == 200
    assert registry.status_code == 200
    assert registry.json()["status"] == "licensable"
    assert page.status_code == 200
    assert keys.status_code == 200


def test_writes_are_503_with_retry_after_and_write_nothing(small_world, redis_unreachable) -> None:
    works_before, licenses_before = Work.objects.count(), License.objects.count()

    created = small_world.client("creator").post(
        "/api/v1/me/works", {"title": "New", "kind": "text"}, content_type="application/json"
    )
    bought = small_world.client("organization").post(
        "/api/v1/licenses",
        {"offer": small_world.offer.public_id},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="buy-while-redis-is-down",
    )
    verify = Client(raise_request_exception=False).post(
        "/api/v1/certificates/verify", {}, content_type="application/json"
    )

    for response in (created, bought, verify):
        assert response.status_code == 503, response.content
        error = response.json()["error"]
        assert error["type"] == "api_error"
        assert error["code"] == "rate_limiter_unavailable"
        assert 1 <= int(response["Retry-After"]) <= 5
    assert (Work.objects.count(), License.objects.count()) == (works_before, licenses_before)


def test_a_retry_with_the_same_idempotency_key_runs_once_redis_is_back(
    small_world, redis_unreachable, settings
) -> None:
    """The 503 released its Idempotency-Key claim, so the retry does the purchase."""
    client = small_world.client("organization")
    body = {"offer": small_world.offer.public_id}
    first = client.post(
        "/api/v1/licenses", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    retry = client.post(
        "/api/v1/licenses", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert (first.status_code, retry.status_code) == (503, 201)
    assert License.objects.count() == 1


def test_invalid_keys_are_still_refused(small_world, redis_unreachable) -> None:
    bad = Client(raise_request_exception=False, HTTP_AUTHORIZATION="Bearer ak_live_wrong")
    statuses = {bad.get("/api/v1/works").status_code for _ in range(7)}
    assert statuses == {401}


def test_services_that_empty_the_public_cache_still_write(small_world, redis_unreachable) -> None:
    """The portal's writes are not rate limited; they must not fail on the cache either."""
    work = work_create(creator=small_world.creator, title="Portal", kind="image")
    assert Work.objects.filter(pk=work.pk).exists()
