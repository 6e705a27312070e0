"""`Idempotency-Key`: replay, reuse with another body, and concurrent requests."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone

from config.api.idempotency import idempotency_records_purge
from config.api.models import IdempotencyRecord
from tests.config.views_for_tests import OTHER_TEST_API_KEY

pytestmark = pytest.mark.urls("tests.config.urls_for_tests")

URL = "/api/v1/_test/users"
BODY = {"name": "ada", "count": 2}


def post(client: Client, body: object, key: str | None, url: str = URL):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    payload = body if isinstance(body, str) else json.dumps(body)
    return client.post(url, data=payload, content_type="application/json", **headers)


@pytest.mark.django_db
def test_same_key_and_body_replays_the_first_response(api_client: Client) -> None:
    first = post(api_client, BODY, "key-1")
    second = post(api_client, BODY, "key-1")

    assert first.status_code == 201
    assert second.status_code == 201
    assert second.content == first.content
    assert second["Location"] == first["Location"]
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert get_user_model().objects.count() == 1


@pytest.mark.django_db
def test_same_json_in_another_key_order_is_the_same_body(api_client: Client) -> None:
    first = post(api_client, '{"name": "ada", "count": 2}', "key-order")
    second = post(api_client, '{"count":2,"name":"ada"}', "key-order")
    assert second.content == first.content
    assert get_user_model().objects.count() == 1


@pytest.mark.django_db
def test_same_key_with_another_body_is_422_and_writes_nothing(api_client: Client) -> None:
    post(api_client, BODY, "key-2")
    reused = post(api_client, {"name": "bob", "count": 2}, "key-2")

    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert get_user_model().objects.count() == 1


@pytest.mark.django_db
def test_a_rejected_request_is_replayed_too(api_client: Client) -> None:
    first = post(api_client, {"name": "ada", "count": 0}, "key-invalid")
    second = post(api_client, {"name": "ada", "count": 0}, "key-invalid")
    assert first.status_code == second.status_code == 400
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_without_a_key_each_post_executes(api_client: Client) -> None:
    post(api_client, BODY, None)
    post(api_client, BODY, None)
    assert get_user_model().objects.count() == 2
    assert IdempotencyRecord.objects.count() == 0


@pytest.mark.django_db
def test_keys_are_scoped_to_the_credentials(api_client: Client) -> None:
    other_tenant = Client(HTTP_AUTHORIZATION=f"Bearer {OTHER_TEST_API_KEY}")
    first = post(api_client, BODY, "shared-key")
    second = post(other_tenant, BODY, "shared-key")
    assert first.json()["tenant"] == "tenant-a"
    assert second.json()["tenant"] == "tenant-b"
    assert get_user_model().objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "k" * 256])
def test_an_empty_or_overlong_key_is_400(api_client: Client, key: str) -> None:
    response = post(api_client, BODY, key)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key_invalid"
    assert get_user_model().objects.count() == 0


@pytest.mark.django_db
def test_a_key_of_255_characters_is_accepted(api_client: Client) -> None:
    assert post(api_client, BODY, "k" * 255).status_code == 201


@pytest.mark.django_db
def test_a_server_error_releases_the_key_so_a_retry_runs_again(api_client: Client) -> None:
    first = post(api_client, {}, "key-500", url="/api/v1/_test/explode")
    second = post(api_client, {}, "key-500", url="/api/v1/_test/explode")
    assert first.status_code == second.status_code == 500
    assert "Idempotent-Replayed" not in second
    assert IdempotencyRecord.objects.count() == 0


@pytest.mark.django_db
def test_a_failed_authentication_is_not_remembered() -> None:
    anonymous = Client()
    assert post(anonymous, BODY, "key-401").status_code == 401
    assert IdempotencyRecord.objects.count() == 0


@pytest.mark.django_db
def test_a_claim_in_flight_answers_409(api_client: Client) -> None:
    first = post(api_client, BODY, "key-in-flight")
    IdempotencyRecord.objects.update(completed_at=None, locked_at=timezone.now())
    response = post(api_client, BODY, "key-in-flight")
    assert first.status_code == 201
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_in_use"
    assert response["Retry-After"] == "1"


@pytest.mark.django_db
def test_a_stale_claim_left_by_a_crash_is_taken_over(api_client: Client, settings) -> None:
    post(api_client, BODY, "key-stale")
    stale_since = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_LOCK_SECONDS + 1)
    IdempotencyRecord.objects.update(completed_at=None, locked_at=stale_since)

    response = post(api_client, BODY, "key-stale")

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert IdempotencyRecord.objects.get().completed_at is not None


@pytest.mark.django_db
def test_purge_deletes_only_records_past_retention(api_client: Client, settings) -> None:
    post(api_client, BODY, "old")
    post(api_client, BODY, "new")
    old_enough = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_RETENTION_HOURS, seconds=1)
    IdempotencyRecord.objects.filter(key="old").update(created_at=old_enough)

    assert idempotency_records_purge() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_with_one_key_execute_once() -> None:
    """Four clients race with one key: one executes, the others are told 409.

    The one that won the claim is held inside the view until the three others have
    their answers, so no timing decides what they see.
    """
    from tests.config.views_for_tests import HELD_REQUESTS_RELEASE, TEST_API_KEY

    assert connection.vendor == "postgresql"
    barrier = threading.Barrier(4)
    answered = threading.Semaphore(0)
    responses = []

    def racer() -> None:
        client = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {TEST_API_KEY}")
        barrier.wait()
        try:
            responses.append(post(client, BODY, "raced-key", url=f"{URL}?hold=1"))
        finally:
            answered.release()
            connection.close()

    HELD_REQUESTS_RELEASE.clear()
    threads = [threading.Thread(target=racer) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(3):  # the three that lost the claim answer while the winner is held
            assert answered.acquire(timeout=30), "a losing racer did not answer"
    finally:
        HELD_REQUESTS_RELEASE.set()
    for thread in threads:
        thread.join(timeout=30)

    statuses = sorted(response.status_code for response in responses)
    executed = [r for r in responses if r.status_code == 201 and "Idempotent-Replayed" not in r]
    assert len(responses) == 4
    assert len(executed) == 1, statuses
    assert all(status in (201, 409) for status in statuses), statuses
    assert get_user_model().objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("age_seconds", [6, 30, 59])
def test_a_claim_left_by_a_crash_says_when_its_lock_expires(
    api_client: Client, settings, age_seconds: int
) -> None:
    """Issue 13, finding 13: after a crash a retry waited 60 s though Retry-After said 1."""
    post(api_client, BODY, "key-crashed")
    crashed_at = timezone.now() - timedelta(seconds=age_seconds)
    IdempotencyRecord.objects.update(completed_at=None, locked_at=crashed_at)

    response = post(api_client, BODY, "key-crashed")

    assert response.status_code == 409
    remaining = settings.IDEMPOTENCY_LOCK_SECONDS - age_seconds
    assert remaining - 1 <= int(response["Retry-After"]) <= remaining


@pytest.mark.django_db
def test_a_retry_after_the_time_it_was_told_takes_the_claim_over(
    api_client: Client, settings
) -> None:
    post(api_client, BODY, "key-told")
    crashed_at = timezone.now() - timedelta(seconds=30)
    IdempotencyRecord.objects.update(completed_at=None, locked_at=crashed_at)
    told = int(post(api_client, BODY, "key-told")["Retry-After"])

    # The retry comes when it was told to: the clock moves instead of the test sleeping.
    IdempotencyRecord.objects.update(locked_at=crashed_at - timedelta(seconds=told))
    response = post(api_client, BODY, "key-told")

    assert response.status_code == 201
