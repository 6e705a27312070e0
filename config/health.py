"""`/healthz`: does every configured part of the stack answer?"""

from __future__ import annotations

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


def _redis_state() -> str:
    if not settings.REDIS_URL:
        return "not_configured"
    import redis

    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    except redis.RedisError as error:
        return f"error: {type(error).__name__}"
    finally:
        client.close()
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
