"""Customers, test cards and off-session PaymentIntents, driven through the stripe SDK."""

from __future__ import annotations

import pytest
import stripe

from tests.stripe_sandbox.helpers import available


def _customer_with_card(client: stripe.StripeClient, token: str) -> tuple[str, str]:
    customer = client.v1.customers.create({"email": "lab@example.com", "payment_method": token})
    [method] = client.v1.payment_methods.list({"customer": customer.id, "type": "card"}).data
    return customer.id, method.id


def test_off_session_payment_succeeds_and_adds_to_the_platform_balance(
    stripe_client: stripe.StripeClient,
):
    customer_id, method_id = _customer_with_card(stripe_client, "pm_card_visa")

    intent = stripe_client.v1.payment_intents.create(
        {
            "amount": 1_250,
            "currency": "eur",
            "customer": customer_id,
            "payment_method": method_id,
            "confirm": True,
            "off_session": True,
            "metadata": {"license": "lic_1"},
        }
    )

    assert method_id.startswith("pm_")
    assert method_id != "pm_card_visa"  # a test token mints a new PaymentMethod, as on Stripe
    assert (intent.status, intent.amount_received) == ("succeeded", 1_250)
    assert stripe_client.v1.payment_intents.retrieve(intent.id).metadata.to_dict() == {
        "license": "lic_1"
    }
    assert available(stripe_client) == 1_250
    charge = stripe_client.v1.charges.retrieve(intent.latest_charge)
    transaction = stripe_client.v1.balance_transactions.retrieve(charge.balance_transaction)
    assert (transaction.type, transaction.amount, transaction.source) == (
        "charge",
        1_250,
        charge.id,
    )
    types = [event.type for event in stripe_client.v1.events.list({"type": "payment_intent.*"})]
    assert types == ["payment_intent.succeeded", "payment_intent.created"]


def test_declined_card_is_a_402_card_error_carrying_the_payment_intent(
    stripe_client: stripe.StripeClient,
):
    customer_id, method_id = _customer_with_card(stripe_client, "pm_card_chargeDeclined")

    with pytest.raises(stripe.CardError) as declined:
        stripe_client.v1.payment_intents.create(
            {
                "amount": 1_250,
                "currency": "eur",
                "customer": customer_id,
                "payment_method": method_id,
                "confirm": True,
                "off_session": True,
            }
        )

    error = declined.value
    assert (error.http_status, error.code) == (402, "card_declined")
    intent = error.error.payment_intent
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error.code == "card_declined"
    assert stripe_client.v1.payment_intents.retrieve(intent.id).status == "requires_payment_method"
    assert available(stripe_client) == 0
    [failed] = stripe_client.v1.events.list({"type": "payment_intent.payment_failed"}).data
    assert failed.data.object.id == intent.id


def test_payment_below_stripes_minimum_is_rejected(stripe_client: stripe.StripeClient):
    with pytest.raises(stripe.InvalidRequestError) as rejected:
        stripe_client.v1.payment_intents.create(
            {"amount": 49, "currency": "eur", "payment_method": "pm_card_visa", "confirm": True}
        )

    assert rejected.value.code == "amount_too_small"
    assert stripe_client.v1.payment_intents.list().data == []


def test_payment_method_of_another_customer_is_refused(stripe_client: stripe.StripeClient):
    _, method_id = _customer_with_card(stripe_client, "pm_card_visa")
    other = stripe_client.v1.customers.create({"email": "other@example.com"})

    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.payment_intents.create(
            {
                "amount": 500,
                "currency": "eur",
                "customer": other.id,
                "payment_method": method_id,
                "confirm": True,
            }
        )
