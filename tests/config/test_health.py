"""`/healthz` answers 200 when every configured part answers, 503 naming the one that does not."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.test import Client

pytestmark = pytest.mark.django_db


def test_healthy_stack_is_200() -> None:
    response = Client().get("/healthz")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["failing"] == []


def test_redis_not_configured_is_not_a_failure(settings) -> None:
    settings.REDIS_URL = ""
    body = Client().get("/healthz").json()
    assert body["checks"]["redis"] == "not_configured"
    assert body["status"] == "ok"


def test_unreachable_redis_is_503_naming_redis(settings) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = Client().get("/healthz")
    body = response.json()
    assert response.status_code == 503
    assert body["failing"] == ["redis"]
    assert body["checks"]["redis"].startswith("error: ")
    assert body["checks"]["database"] == "ok"


def test_broken_database_is_503_naming_the_database(
    monkeypatch: pytest.MonkeyPatch, settings
) -> None:
    settings.REDIS_URL = ""

    def refuse(*args: object, **kwargs: object) -> None:
        raise OperationalError("connection refused")

    from django.db import connection

    monkeypatch.setattr(connection, "cursor", refuse)
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]
    assert response.json()["checks"]["database"] == "error: OperationalError"


@pytest.mark.redis
def test_real_redis_answers(settings) -> None:
    body = Client().get("/healthz").json()
    assert body["checks"]["redis"] == "ok"


def _probe_connection_ids(server) -> list[int]:
    from config.health import redis_client_name

    return [entry["id"] for entry in server.client_list() if entry["name"] == redis_client_name()]


@pytest.fixture
def redis_server(settings):
    import redis

    server = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
    yield server
    server.close()


@pytest.mark.redis
def test_probes_share_one_redis_connection(redis_server) -> None:
    Client().get("/healthz")
    first = _probe_connection_ids(redis_server)
    for _ in range(5):
        assert Client().get("/healthz").json()["checks"]["redis"] == "ok"
    assert len(first) == 1
    assert _probe_connection_ids(redis_server) == first


@pytest.mark.redis
def test_a_dropped_redis_connection_is_replaced_by_the_next_probe(redis_server) -> None:
    Client().get("/healthz")
    (dropped,) = _probe_connection_ids(redis_server)
    redis_server.client_kill_filter(_id=dropped)  # as a Redis restart would
    body = Client().get("/healthz").json()
    assert body["checks"]["redis"] == "ok"
    replacement = _probe_connection_ids(redis_server)
    assert len(replacement) == 1
    assert replacement != [dropped]
