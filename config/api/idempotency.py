"""`Idempotency-Key` for every POST under /api/, as API.md defines it.

A request claims its key by inserting a row; the unique constraint decides the race,
so of two concurrent requests with one key exactly one executes and the other gets
409. The answer (below 500) is stored and replayed, byte for byte, for a repeat with
the same body; another body with the same key is 422 `idempotency_key_reused`.

Keys are scoped by the credentials they came with, so two tenants cannot collide.
A 5xx, a 401, a 409 or a 429 releases the claim: the request did nothing, and a retry
must be allowed to run. A claim left by a crashed process expires after
`IDEMPOTENCY_LOCK_SECONDS`; the services behind every POST are idempotent on their
own rows, so a takeover after such a crash cannot do the work twice.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from config.api.exceptions import json_error_response
from config.api.models import IdempotencyRecord
from config.db import savepoint_if_nested

HEADER = "HTTP_IDEMPOTENCY_KEY"
KEY_LENGTH_MAX = 255
RELEASE_STATUSES = frozenset({401, 409, 429})


def _digest(*parts: bytes) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(len(part).to_bytes(8, "big"))
        hasher.update(part)
    return hasher.hexdigest()


def _canonical_body(body: bytes) -> bytes:
    """Let the same JSON with other spacing or key order count as the same body."""
    try:
        return json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError, RecursionError):
        return body


def _scope_digest(request: HttpRequest) -> str:
    credentials = request.META.get("HTTP_AUTHORIZATION", "")
    if not credentials:
        credentials = "anonymous:" + request.META.get("REMOTE_ADDR", "")
    return _digest(credentials.encode())


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        bytes(record.response_body or b""),
        status=record.response_status,
        content_type=record.response_content_type or "application/json",
    )
    if record.response_location:
        response["Location"] = record.response_location
    response["Idempotent-Replayed"] = "true"
    return response


def _claim(scope_digest: str, key: str, request_digest: str) -> tuple[IdempotencyRecord, bool]:
    """Insert the claim, or return the row that already holds the key."""
    now = timezone.now()
    try:
        with savepoint_if_nested():
            record = IdempotencyRecord(
                scope_digest=scope_digest, key=key, request_digest=request_digest, locked_at=now
            )
            record.save(force_insert=True)
        return record, True
    except IntegrityError:
        return IdempotencyRecord.objects.get(scope_digest=scope_digest, key=key), False


def _retry_after_seconds(record: IdempotencyRecord) -> int:
    """When a retry of a claimed key can get somewhere.

    A claim younger than IDEMPOTENCY_IN_FLIGHT_SECONDS is a request still running,
    which answers within moments: retry in a second and get its stored answer. An older
    one was most likely left by a process that died, and only the lock's expiry lets a
    retry take it over: say how long that is (a retry sooner would only get 409 again).
    """
    age = (timezone.now() - record.locked_at).total_seconds()
    if age < settings.IDEMPOTENCY_IN_FLIGHT_SECONDS:
        return 1
    return max(1, math.ceil(settings.IDEMPOTENCY_LOCK_SECONDS - age))


def _take_over_stale_claim(record: IdempotencyRecord) -> bool:
    if record.locked_at > timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_LOCK_SECONDS):
        return False
    taken = IdempotencyRecord.objects.filter(
        pk=record.pk, completed_at__isnull=True, locked_at=record.locked_at
    ).update(locked_at=timezone.now())
    return taken == 1


def _store(record: IdempotencyRecord, response: HttpResponse) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        completed_at=timezone.now(),
        response_status=response.status_code,
        response_body=response.content,
        response_content_type=response.get("Content-Type", ""),
        response_location=response.get("Location", ""),
    )


def _release(record: IdempotencyRecord) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk, completed_at__isnull=True).delete()


class IdempotencyKeyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.META.get(HEADER)
        if key is None or request.method != "POST" or not request.path.startswith("/api/"):
            return self.get_response(request)
        if not key or len(key) > KEY_LENGTH_MAX:
            return json_error_response(
                400,
                "idempotency_key_invalid",
                f"Idempotency-Key must be 1 to {KEY_LENGTH_MAX} characters.",
            )
        try:
            body = request.body
        except RequestDataTooBig:
            return json_error_response(413, "request_too_large", "The request body is too large.")
        request_digest = _digest(
            request.method.encode(), request.path.encode(), _canonical_body(body)
        )
        record, claimed = _claim(_scope_digest(request), key, request_digest)
        if not claimed:
            if record.request_digest != request_digest:
                return json_error_response(
                    422,
                    "idempotency_key_reused",
                    "This Idempotency-Key was used with another request; use a new key.",
                )
            if record.completed_at is not None:
                return _replay(record)
            if not _take_over_stale_claim(record):
                return json_error_response(
                    409,
                    "idempotency_key_in_use",
                    "A request with this Idempotency-Key is still being processed; retry shortly.",
                    **{"Retry-After": str(_retry_after_seconds(record))},
                )
        return self._execute(request, record)

    def _execute(self, request: HttpRequest, record: IdempotencyRecord) -> HttpResponse:
        try:
            response = self.get_response(request)
        except BaseException:
            _release(record)
            raise
        if (
            response.streaming
            or response.status_code >= 500
            or response.status_code in RELEASE_STATUSES
        ):
            _release(record)
        else:
            _store(record, response)
        return response


def idempotency_records_purge() -> int:
    """Delete answers older than the retention period; return how many went."""
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_RETENTION_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
