"""POST /stripe/webhook: verified, stored once, processed once, in any order."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import stripe
from django.test import Client

from payouts.models import StripeEvent
from payouts.webhooks import stripe_event_handlers, stripe_event_superseded
from tests.fixtures.stripe_sandbox import SANDBOX_WEBHOOK_SECRET, SandboxControl

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_sandbox_settings")]

URL = "/stripe/webhook"


def _signature(payload: bytes, secret: str = SANDBOX_WEBHOOK_SECRET, at: int | None = None) -> str:
    timestamp = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def _deliver(client: Client, payload: bytes, signature: str | None) -> Any:
    headers = {"HTTP_STRIPE_SIGNATURE": signature} if signature is not None else {}
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


def test_a_failing_handler_leaves_the_event_for_redelivery(client: Client, topup_event: bytes):
    attempts: list[str] = []

    def flaky(event: StripeEvent) -> None:
        attempts.append(event.stripe_id)
        if len(attempts) == 1:
            raise RuntimeError("database hiccup")

    stripe_event_handlers.register("topup.succeeded")(flaky)
    try:
        with pytest.raises(RuntimeError):
            _deliver(client, topup_event, _signature(topup_event))  # Stripe would see a 500
        assert StripeEvent.objects.get().processed_at is None

        retried = _deliver(client, topup_event, _signature(topup_event))
    finally:
        stripe_event_handlers.unregister("topup.succeeded", flaky)

    assert retried.json()["processed"] is True
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
