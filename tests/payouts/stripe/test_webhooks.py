"""POST /stripe/webhook: verified, stored once, processed once, in any order."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import stripe
from django.db import connection
from django.test import Client, TestCase
from django.utils import timezone

from payouts.models import StripeEvent
from payouts.stripe.tasks import (
    PENDING_AFTER,
    stripe_event_process_task,
    stripe_events_pending_process_task,
)
from payouts.stripe.webhooks import stripe_event_handlers, stripe_event_superseded
from tests.fixtures.stripe_sandbox import SANDBOX_WEBHOOK_SECRET, SandboxControl

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_sandbox_settings")]

URL = "/stripe/webhook"


def _signature(payload: bytes, secret: str = SANDBOX_WEBHOOK_SECRET, at: int | None = None) -> str:
    timestamp = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def _deliver(client: Client, payload: bytes, signature: str | None) -> Any:
    """Deliver, then run what the endpoint queued on commit (a test's transaction never
    commits), as a worker would once the answer is sent."""
    headers = {"HTTP_STRIPE_SIGNATURE": signature} if signature is not None else {}
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(URL, data=payload, content_type="application/json", **headers)


def _sandbox_event(stripe_client: stripe.StripeClient, event_type: str) -> bytes:
    """Return the JSON of the newest sandbox event of a type, as a delivery carries it."""
    [event] = stripe_client.v1.events.list({"type": event_type, "limit": 1}).data
    return json.dumps(event.to_dict()).encode()


@pytest.fixture
def calls() -> Iterator[list[StripeEvent]]:
    """Register a handler for `topup.succeeded` that records what it is given."""
    seen: list[StripeEvent] = []

    def record(event: StripeEvent) -> None:
        seen.append(event)

    stripe_event_handlers.register("topup.succeeded")(record)
    yield seen
    stripe_event_handlers.unregister("topup.succeeded", record)


@pytest.fixture
def topup_event(stripe_client: stripe.StripeClient) -> bytes:
    stripe_client.v1.topups.create({"amount": 700, "currency": "eur"})
    return _sandbox_event(stripe_client, "topup.succeeded")


def test_a_signed_event_is_stored_and_processed(
    client: Client, topup_event: bytes, calls: list[StripeEvent]
):
    response = _deliver(client, topup_event, _signature(topup_event))

    assert response.status_code == 200
    assert response.json()["duplicate"] is False
    stored = StripeEvent.objects.get()
    body = json.loads(topup_event)
    assert (stored.stripe_id, stored.type, stored.object_id) == (
        body["id"],
        "topup.succeeded",
        body["data"]["object"]["id"],
    )
    assert int(stored.created.timestamp()) == body["created"]
    assert stored.payload == body
    assert stored.processed_at is not None
    assert [event.stripe_id for event in calls] == [body["id"]]


def _bad_signature(case: str, payload: bytes) -> str | None:
    return {
        "missing": None,
        "empty": "",
        "garbage": "t=1,v1=deadbeef",
        "other payload": _signature(b"something else"),
        "other secret": _signature(payload, secret="whsec_someone_else"),
        "stale": _signature(payload, at=int(time.time()) - 600),
    }[case]


@pytest.mark.parametrize(
    "case", ["missing", "empty", "garbage", "other payload", "other secret", "stale"]
)
def test_a_forged_or_stale_delivery_is_rejected_and_nothing_stored(
    client: Client, topup_event: bytes, calls: list[StripeEvent], case: str
):
    signature = _bad_signature(case, topup_event)

    response = _deliver(client, topup_event, signature)

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["type"], error["code"]) == ("invalid_request_error", "signature_invalid")
    assert StripeEvent.objects.count() == 0
    assert calls == []


def test_an_altered_payload_is_rejected(client: Client, topup_event: bytes):
    signature = _signature(topup_event)
    altered = topup_event.replace(b'"amount": 700', b'"amount": 70000')

    response = _deliver(client, altered, signature)

    assert altered != topup_event
    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0


def test_a_replayed_event_is_processed_once(
    client: Client, topup_event: bytes, calls: list[StripeEvent]
):
    first = _deliver(client, topup_event, _signature(topup_event))
    again = _deliver(client, topup_event, _signature(topup_event))

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == {
        "received": True,
        "id": json.loads(topup_event)["id"],
        "duplicate": True,
        "processed": False,
    }
    assert StripeEvent.objects.count() == 1
    assert len(calls) == 1


def test_an_event_nobody_handles_is_stored_and_acknowledged(
    client: Client, stripe_client: stripe.StripeClient
):
    stripe_client.v1.customers.create({"email": "lab@example.com"})
    payload = _sandbox_event(stripe_client, "customer.created")

    response = _deliver(client, payload, _signature(payload))

    assert response.status_code == 200
    assert StripeEvent.objects.get().processed_at is not None


def test_a_failing_handler_leaves_the_event_for_the_retry(client: Client, topup_event: bytes):
    attempts: list[str] = []

    def flaky(event: StripeEvent) -> None:
        attempts.append(event.stripe_id)
        if len(attempts) == 1:
            raise RuntimeError("database hiccup")

    stripe_event_handlers.register("topup.succeeded")(flaky)
    try:
        # The endpoint answers before processing: a failure there is not Stripe's to retry.
        first = _deliver(client, topup_event, _signature(topup_event))
        assert (first.status_code, first.json()["processed"]) == (200, False)
        assert StripeEvent.objects.get().processed_at is None

        # A redelivery of the unprocessed event queues it again, as the beat job would.
        retried = _deliver(client, topup_event, _signature(topup_event))
        assert stripe_events_pending_process_task.apply().result == 0  # nothing left
    finally:
        stripe_event_handlers.unregister("topup.succeeded", flaky)

    assert len(attempts) == 2
    assert retried.status_code == 200
    assert StripeEvent.objects.get().processed_at is not None


def test_the_beat_job_processes_an_event_whose_task_failed(client: Client, topup_event: bytes):
    attempts: list[str] = []

    def flaky(event: StripeEvent) -> None:
        attempts.append(event.stripe_id)
        if len(attempts) == 1:
            raise RuntimeError("database hiccup")

    stripe_event_handlers.register("topup.succeeded")(flaky)
    try:
        assert _deliver(client, topup_event, _signature(topup_event)).status_code == 200
        StripeEvent.objects.update(received_at=timezone.now() - PENDING_AFTER)

        assert stripe_events_pending_process_task.apply().result == 1
    finally:
        stripe_event_handlers.unregister("topup.succeeded", flaky)

    assert len(attempts) == 2
    assert StripeEvent.objects.get().processed_at is not None


def test_an_older_event_arriving_late_is_reported_superseded(
    client: Client,
    stripe_client: stripe.StripeClient,
    stripe_sandbox_control: SandboxControl,
):
    account = stripe_client.v1.accounts.create({"type": "express", "country": "DE"})
    stripe_client.v1.topups.create({"amount": 100, "currency": "eur"})
    link = stripe_client.v1.account_links.create(
        {"account": account.id, "type": "account_onboarding"}
    )
    assert stripe_sandbox_control.complete_onboarding(link.url) == 200
    newer = json.loads(_sandbox_event(stripe_client, "account.updated"))
    older = {
        **newer,
        "id": "evt_older_than_onboarding",
        "created": newer["created"] - 60,
        "data": {**newer["data"], "object": {**newer["data"]["object"], "payouts_enabled": False}},
    }
    verdicts: list[bool] = []

    def record(event: StripeEvent) -> None:
        verdicts.append(stripe_event_superseded(event))

    stripe_event_handlers.register("account.updated")(record)
    try:
        for event in (newer, older):  # delivered newest first
            payload = json.dumps(event).encode()
            assert _deliver(client, payload, _signature(payload)).status_code == 200
    finally:
        stripe_event_handlers.unregister("account.updated", record)

    assert verdicts == [False, True]
    assert StripeEvent.objects.get(stripe_id=newer["id"]).account == account.id


@pytest.mark.django_db(transaction=True)
def test_the_sandbox_delivers_to_the_endpoint_end_to_end(
    live_server: Any, stripe_client: stripe.StripeClient, stripe_sandbox_control: SandboxControl
):
    stripe_sandbox_control.add_webhook_endpoint(f"{live_server.url}{URL}")

    topup = stripe_client.v1.topups.create({"amount": 300, "currency": "eur"})

    deadline = time.monotonic() + 10
    while StripeEvent.objects.filter(processed_at__isnull=False).count() < 2:
        assert time.monotonic() < deadline, "the sandbox's deliveries did not arrive"
        time.sleep(0.05)
    stored = {event.type: event for event in StripeEvent.objects.all()}
    assert set(stored) == {"topup.created", "topup.succeeded"}
    assert stored["topup.succeeded"].object_id == topup.id


def test_processing_is_queued_on_commit_and_runs_after_the_answer(
    client: Client,
    topup_event: bytes,
    calls: list[StripeEvent],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
):
    sent: list[int] = []
    monkeypatch.setattr(stripe_event_process_task, "delay", sent.append)  # a broker's queue

    with django_capture_on_commit_callbacks() as on_commit:
        response = _deliver_without_commit(client, topup_event)
        stored = StripeEvent.objects.get()
        # Answered, stored, and nothing processed or even queued before the commit.
        assert (response.status_code, response.json()["processed"]) == (200, False)
        assert (stored.processed_at, calls, sent) == (None, [], [])

    assert len(on_commit) == 1
    on_commit[0]()  # the commit: the task is queued, with the stored row's id
    assert sent == [stored.pk]
    assert calls == []

    assert stripe_event_process_task.apply(args=[stored.pk]).result is True  # the worker
    assert [event.stripe_id for event in calls] == [stored.stripe_id]
    assert StripeEvent.objects.get().processed_at is not None


def test_a_handler_reads_stripe_before_the_lock_and_applies_under_it(
    client: Client, topup_event: bytes
):
    depths: dict[str, int] = {}

    def read(event: StripeEvent) -> str:
        depths["read"] = len(connection.atomic_blocks)
        return f"read {event.object_id}"

    def apply(event: StripeEvent, was_read: str) -> None:
        depths["apply"] = len(connection.atomic_blocks)
        assert was_read == f"read {event.object_id}"

    stripe_event_handlers.register("topup.succeeded", read=read)(apply)
    try:
        with django_transaction_depth() as outside:
            assert _deliver(client, topup_event, _signature(topup_event)).status_code == 200
    finally:
        stripe_event_handlers.unregister("topup.succeeded", apply)

    assert depths == {"read": outside, "apply": outside + 1}


def _deliver_without_commit(client: Client, payload: bytes) -> Any:
    return client.post(
        URL,
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=_signature(payload),
    )


@contextlib.contextmanager
def django_transaction_depth() -> Iterator[int]:
    """The test's own transaction depth (pytest-django wraps each test in one)."""
    yield len(connection.atomic_blocks)
