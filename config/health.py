"""`/healthz`: does every configured part of the stack answer?"""

from __future__ import annotations

import os
from functools import lru_cache

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse

REDIS_TIMEOUT_SECONDS = 1.0


def _database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any failure means "not answering"; name it
        return f"error: {type(error).__name__}"
    return "ok"


@lru_cache(maxsize=4)
def _redis_client(url: str) -> redis.Redis:
    """One client, and so one connection pool, per URL and process.

    A client per probe opened a TCP connection each time, and redis-py describes
    itself to the server on every new connection: that was most of the probe's CPU.
    A pooled connection that died is dropped and replaced by the next command. The
    name tells an operator's CLIENT LIST which process's probe a connection is.
    """
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        client_name=redis_client_name(),
    )


def redis_client_name() -> str:
    return f"accord-healthz-{os.getpid()}"


def _redis_state() -> str:
    if not settings.REDIS_URL:
        return "not_configured"
    try:
        _redis_client(settings.REDIS_URL).ping()
    except redis.RedisError as error:
        return f"error: {type(error).__name__}"
    return "ok"


def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database_state(), "redis": _redis_state()}
    failing = sorted(name for name, state in checks.items() if state.startswith("error"))
    body = {
        "status": "unavailable" if failing else "ok",
        "checks": checks,
        "failing": failing,
        "database_vendor": connection.vendor,
    }
    return JsonResponse(body, status=503 if failing else 200)
