"""Webhook delivery faults: events sent twice, late, out of order, never, or again.

What a receiver following `transfer.created`, `transfer.reversed`, `account.updated`
and `payment_intent.succeeded` must survive, because Stripe delivers at least once
and in no particular order.
"""

from __future__ import annotations

import json

import pytest
import stripe

from tests.fixtures.stripe_sandbox import SANDBOX_WEBHOOK_SECRET, SandboxControl
from tests.stripe_sandbox.conftest import WebhookReceiver
from tests.stripe_sandbox.helpers import fund_platform, onboarded_account


def _ids(receiver: WebhookReceiver, count: int) -> list[str]:
    return [json.loads(delivery.body)["id"] for delivery in receiver.wait_for(count)]


def test_duplicate_delivers_the_same_event_twice_each_verifiable(
    stripe_client: stripe.StripeClient,
    stripe_sandbox_control: SandboxControl,
    webhook_receiver: WebhookReceiver,
):
    stripe_sandbox_control.arm_webhook_fault("duplicate", "topup.created")

    stripe_client.v1.topups.create({"amount": 100, "currency": "eur"})
    deliveries = webhook_receiver.wait_for(3)

    events = [
        stripe.Webhook.construct_event(d.body, d.signature, SANDBOX_WEBHOOK_SECRET)
        for d in deliveries
    ]
    assert sorted(event.type for event in events) == [
        "topup.created",
        "topup.created",
        "topup.succeeded",
    ]
    created = [event for event in events if event.type == "topup.created"]
    assert created[0].id == created[1].id
    assert stripe_sandbox_control.get("/_sandbox/webhook_faults")["faults"] == []  # used up


def test_reorder_delivers_a_group_newest_first(
    stripe_client: stripe.StripeClient,
    stripe_sandbox_control: SandboxControl,
    webhook_receiver: WebhookReceiver,
):
    stripe_sandbox_control.arm_webhook_fault("reorder", "customer.*", count=3)

    customers = [stripe_client.v1.customers.create({"name": f"c{n}"}) for n in range(3)]
    stripe_client.v1.customers.create({"name": "after"})  # not held: the group is complete
    delivered = webhook_receiver.events(4, SANDBOX_WEBHOOK_SECRET)

    assert [event.data.object.id for event in delivered[:3]] == [c.id for c in customers[::-1]]
    assert delivered[3].data.object.name == "after"


def test_delay_lets_later_events_overtake(
    stripe_client: stripe.StripeClient,
    stripe_sandbox_control: SandboxControl,
    webhook_receiver: WebhookReceiver,
):
    account = onboarded_account(stripe_client, stripe_sandbox_control)
    webhook_receiver.wait_for(1)  # account.updated
    fund_platform(stripe_client, 500)
    webhook_receiver.wait_for(3)
    stripe_sandbox_control.arm_webhook_fault("delay", "transfer.created", delay_ms=1_000)

    transfer = stripe_client.v1.transfers.create(
        {"amount": 500, "currency": "eur", "destination": account.id}
    )
    stripe_client.v1.transfers.reversals.create(transfer.id)
    events = webhook_receiver.events(5, SANDBOX_WEBHOOK_SECRET)[3:]

    # The reversal's event arrives before the creation's, as Stripe's may.
    assert [event.type for event in events] == ["transfer.reversed", "transfer.created"]
    assert events[0].created >= events[1].created


def test_a_dropped_event_is_not_sent_but_listed_and_can_be_redelivered(
    stripe_client: stripe.StripeClient,
    stripe_sandbox_control: SandboxControl,
    webhook_receiver: WebhookReceiver,
):
    stripe_sandbox_control.arm_webhook_fault("drop", "payment_intent.succeeded")
    customer = stripe_client.v1.customers.create({"payment_method": "pm_card_visa"})
    method = stripe_client.v1.payment_methods.list({"customer": customer.id}).data[0]
    intent = stripe_client.v1.payment_intents.create(
        {
            "amount": 1250,
            "currency": "eur",
            "customer": customer.id,
            "payment_method": method.id,
            "confirm": True,
        }
    )
    sent = webhook_receiver.events(4, SANDBOX_WEBHOOK_SECRET)
    assert "payment_intent.succeeded" not in [event.type for event in sent]
    stripe_sandbox_control.wait_for_deliveries(4)

    # The backfill's view: the event is listed, and not delivered.
    [missed] = stripe_client.v1.events.list({"delivery_success": False}).data
    assert (missed.type, missed.data.object.id, missed.pending_webhooks) == (
        "payment_intent.succeeded",
        intent.id,
        1,
    )
    stripe_sandbox_control.redeliver(missed.id)
    [again] = webhook_receiver.events(5, SANDBOX_WEBHOOK_SECRET)[4:]
    assert again.id == missed.id
    stripe_sandbox_control.wait_for_deliveries(5)
    assert stripe_client.v1.events.list({"delivery_success": False}).data == []
    assert len(stripe_client.v1.events.list({"delivery_success": True}).data) == 5


def test_redelivering_an_event_sends_it_again_to_every_endpoint(
    stripe_client: stripe.StripeClient,
    stripe_sandbox_control: SandboxControl,
    webhook_receiver: WebhookReceiver,
):
    stripe_client.v1.customers.create({"email": "again@example.com"})
    [first] = _ids(webhook_receiver, 1)

    stripe_sandbox_control.redeliver(first)

    assert _ids(webhook_receiver, 2) == [first, first]
    log = stripe_sandbox_control.wait_for_deliveries(2)
    assert [(entry["event"], entry["status"]) for entry in log] == [(first, 200), (first, 200)]
    # Delivered twice, counted once: pending_webhooks went from 1 to 0, not below.
    assert stripe_client.v1.events.retrieve(first).pending_webhooks == 0


def test_the_delivery_log_shows_every_attempt(
    stripe_client: stripe.StripeClient,
    stripe_sandbox_control: SandboxControl,
    webhook_receiver: WebhookReceiver,
):
    webhook_receiver.statuses = [500]

    stripe_client.v1.customers.create({})
    [event_id, _] = _ids(webhook_receiver, 2)

    log = stripe_sandbox_control.wait_for_deliveries(2)
    assert [(entry["attempt"], entry["status"]) for entry in log] == [(1, 500), (2, 200)]
    assert {entry["event"] for entry in log} == {event_id}
    assert log[0]["endpoint"] == webhook_receiver.url


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"mode": "explode"}, "mode must be one of"),
        ({"mode": "reorder", "count": 1}, "reorder needs a count of at least 2"),
        ({"mode": "delay", "delay_ms": -1}, "delay_ms must be an integer"),
        ({"mode": "duplicate", "copies": 1}, "copies must be an integer"),
        ({"mode": "drop", "colour": "red"}, "unknown fields: colour"),
    ],
)
def test_bad_webhook_fault_specs_are_refused(
    stripe_sandbox_control: SandboxControl, spec: dict, message: str
):
    with pytest.raises(AssertionError, match=message):
        stripe_sandbox_control.post("/_sandbox/webhook_faults", spec)
    assert stripe_sandbox_control.get("/_sandbox/webhook_faults")["faults"] == []


def test_disarming_releases_what_a_reorder_holds(
    stripe_client: stripe.StripeClient,
    stripe_sandbox_control: SandboxControl,
    webhook_receiver: WebhookReceiver,
):
    stripe_sandbox_control.arm_webhook_fault("reorder", "customer.created", count=5)
    first = stripe_client.v1.customers.create({})
    second = stripe_client.v1.customers.create({})
    [armed] = stripe_sandbox_control.get("/_sandbox/webhook_faults")["faults"]
    assert armed["remaining"] == 3
    assert armed["held"] == [event.id for event in stripe_client.v1.events.list().data[::-1]]

    stripe_sandbox_control.clear_webhook_faults()
    delivered = webhook_receiver.events(2, SANDBOX_WEBHOOK_SECRET)

    assert [event.data.object.id for event in delivered] == [second.id, first.id]
