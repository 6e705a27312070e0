"""Signed but unusable webhooks are stored, logged and answered 200; a future date is refused.

Issue 13, finding 10: a signature dated in the future passed, and signed but malformed
events (no id, a string `created`, `data` a list, an id over 255 characters, an
unknown PaymentIntent, JSON nested 5,000 deep) were each a 500.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.test import Client

from payouts.models import StripeEvent
from payouts.stripe.signatures import WEBHOOK_TOLERANCE_SECONDS
from tests.payouts.stripe.test_webhooks import _deliver, _signature

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_sandbox_settings")]


def _event(**overrides: Any) -> dict[str, Any]:
    event = {
        "id": "evt_malformed_base",
        "object": "event",
        "type": "payment_intent.succeeded",
        "created": int(time.time()),
        "data": {"object": {"id": "pi_unknown_to_stripe", "object": "payment_intent"}},
    }
    event.update(overrides)
    return {name: value for name, value in event.items() if value is not None}


def _without(name: str) -> dict[str, Any]:
    event = _event()
    del event[name]
    return event


UNUSABLE = {
    "no id": json.dumps(_without("id")).encode(),
    "string created": json.dumps(_event(created="yesterday")).encode(),
    "data a list": json.dumps(_event(data=[{"object": {"id": "pi_1"}}])).encode(),
    "id over 255 characters": json.dumps(_event(id="evt_" + "x" * 300)).encode(),
    "not JSON": b"{not json",
    "a JSON list": b"[1, 2, 3]",
    "5,000 deep": b'{"id": "evt_deep", "data": ' + b"[" * 5_000 + b"]" * 5_000 + b"}",
}


@pytest.mark.parametrize("case", list(UNUSABLE))
def test_a_signed_event_accord_cannot_use_is_stored_logged_and_answered_200(
    client: Client, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    payload = UNUSABLE[case]

    response = _deliver(client, payload, _signature(payload))
    again = _deliver(client, payload, _signature(payload))

    assert response.status_code == 200, response.content
    assert response.json()["duplicate"] is False
    assert (again.status_code, again.json()["duplicate"]) == (200, True)
    stored = StripeEvent.objects.get()
    assert stored.stripe_id == response.json()["id"]
    assert len(stored.stripe_id) <= 255
    assert stored.processed_at is not None  # nothing will ever process it
    assert "unusable Stripe event" in caplog.text


def test_an_event_about_a_payment_intent_stripe_does_not_know_is_processed_and_logged(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    payload = json.dumps(_event(id="evt_unknown_intent")).encode()

    response = _deliver(client, payload, _signature(payload))

    assert response.status_code == 200
    assert StripeEvent.objects.get().processed_at is not None  # done with: nothing to apply
    assert "names unknown pi_unknown_to_stripe" in caplog.text


@pytest.mark.parametrize("ahead_seconds", [WEBHOOK_TOLERANCE_SECONDS + 60, 86_400 * 365])
def test_a_signature_dated_in_the_future_beyond_the_tolerance_is_rejected(
    client: Client, ahead_seconds: int
) -> None:
    payload = json.dumps(_event(id="evt_from_the_future")).encode()

    response = _deliver(client, payload, _signature(payload, at=int(time.time()) + ahead_seconds))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "signature_invalid"
    assert not StripeEvent.objects.exists()


def test_a_signature_a_little_ahead_of_our_clock_is_accepted(client: Client) -> None:
    payload = json.dumps(_event(id="evt_clock_skew", type="customer.created")).encode()

    response = _deliver(client, payload, _signature(payload, at=int(time.time()) + 30))

    assert response.status_code == 200
