"""Webhook deliveries: signed as Stripe signs them, retried while the receiver fails."""

from __future__ import annotations

import pytest
import stripe

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
