"""Webhook deliveries: signed as Stripe signs them, retried while the receiver fails."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import stripe

from stripe_sandbox import serve_in_thread
from tests.fixtures.stripe_sandbox import SANDBOX_WEBHOOK_SECRET, SandboxControl
from tests.stripe_sandbox.conftest import WebhookReceiver
from tests.stripe_sandbox.helpers import fund_platform, onboarded_account


def test_deliveries_pass_construct_event(
    stripe_client: stripe.StripeClient,
    stripe_sandbox_control: SandboxControl,
    webhook_receiver: WebhookReceiver,
):
    account = onboarded_account(stripe_client, stripe_sandbox_control)
    fund_platform(stripe_client, 500)
    transfer = stripe_client.v1.transfers.create(
        {"amount": 500, "currency": "eur", "destination": account.id}
    )

    events = webhook_receiver.events(4, SANDBOX_WEBHOOK_SECRET)

    by_type = {event.type: event for event in events}
    assert set(by_type) == {
        "account.updated",
        "topup.created",
        "topup.succeeded",
        "transfer.created",
    }
    assert by_type["transfer.created"].data.object.id == transfer.id
    assert (
        by_type["transfer.created"].id
        == stripe_client.v1.events.list({"type": "transfer.created"}).data[0].id
    )


def test_a_forged_or_stale_delivery_fails_verification(
    stripe_client: stripe.StripeClient, webhook_receiver: WebhookReceiver
):
    stripe_client.v1.topups.create({"amount": 1, "currency": "eur"})
    delivery = webhook_receiver.wait_for(1)[0]

    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(delivery.body, delivery.signature, "whsec_someone_else")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(
            delivery.body.replace(b'"amount": 1', b'"amount": 9'),
            delivery.signature,
            SANDBOX_WEBHOOK_SECRET,
        )
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(
            delivery.body.decode(), delivery.signature, SANDBOX_WEBHOOK_SECRET, tolerance=-1
        )


def test_a_failing_receiver_gets_the_event_again(
    stripe_client: stripe.StripeClient, webhook_receiver: WebhookReceiver
):
    webhook_receiver.statuses = [500, 503]

    stripe_client.v1.customers.create({"email": "retry@example.com"})
    deliveries = webhook_receiver.wait_for(3)

    assert len({delivery.body for delivery in deliveries}) == 1  # the same event each time
    event = stripe.Webhook.construct_event(
        deliveries[-1].body, deliveries[-1].signature, SANDBOX_WEBHOOK_SECRET
    )
    assert event.type == "customer.created"


def test_every_endpoint_gets_the_event_signed_with_its_own_secret(
    stripe_client: stripe.StripeClient,
    stripe_sandbox_control: SandboxControl,
    webhook_receiver: WebhookReceiver,
):
    stripe_sandbox_control.add_webhook_endpoint(webhook_receiver.url, "whsec_second")

    stripe_client.v1.customers.create({})
    first, second = webhook_receiver.wait_for(2)

    secrets = []
    for delivery in (first, second):
        for secret in (SANDBOX_WEBHOOK_SECRET, "whsec_second"):
            try:
                stripe.Webhook.construct_event(delivery.body, delivery.signature, secret)
            except stripe.SignatureVerificationError:
                continue
            secrets.append(secret)
    assert sorted(secrets) == [SANDBOX_WEBHOOK_SECRET, "whsec_second"]


def test_stopping_aborts_a_delivery_in_flight_and_leaves_no_thread(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a sandbox of its own, delivering to a receiver that reads and never answers,
    # as a receiver calling back into a sandbox that is going away would.
    threads_before = set(threading.enumerate())
    running = serve_in_thread("127.0.0.1", 0)
    with socket.create_server(("127.0.0.1", 0)) as silent:
        silent.settimeout(5)
        control = SandboxControl(running.url)
        control.add_webhook_endpoint(f"http://127.0.0.1:{silent.getsockname()[1]}/hook")
        client = stripe.StripeClient(
            "sk_test_stop", base_addresses={"api": running.url}, max_network_retries=0
        )
        client.v1.customers.create({})
        connection, _ = silent.accept()
        with connection:
            assert connection.recv(65_536).startswith(b"POST /hook")  # the attempt is in flight

            # When the sandbox stops
            started = time.monotonic()
            running.stop()
            stop_seconds = time.monotonic() - started

    # Then it did not wait for the receiver, no thread of it is left, and it said nothing.
    assert stop_seconds < 1
    left = [thread.name for thread in set(threading.enumerate()) - threads_before]
    assert not [name for name in left if name.startswith("stripe-sandbox")]
    # Not even the thread serving the SDK's kept-alive connection.
    assert not [name for name in left if "process_request_thread" in name]
    assert not [record for record in caplog.records if record.name.startswith("stripe_sandbox")]
