"""Every answer the sandbox gives, checked against Stripe's own OpenAPI description.

The calls go through the real SDK with an HTTP client that records what came back;
each recorded body is validated against the response schema of the spec's operation
for that method and path (the `default` error schema for an error), and each webhook
delivery against the `event` schema and its `data.object` against its own object's.
A route added to the sandbox without a call here fails
`test_every_route_is_exercised`, so nothing escapes the check.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
import stripe

from stripe_sandbox import routes
from tests.fixtures.stripe_sandbox import SANDBOX_API_KEY, SANDBOX_WEBHOOK_SECRET, SandboxControl
from tests.stripe_sandbox import openapi_schemas
from tests.stripe_sandbox.conftest import WebhookReceiver


@dataclass(frozen=True)
class Answer:
    """One response the SDK received."""

    method: str
    path: str
    status: int
    body: Any


class RecordingClient(stripe.RequestsClient):
    """The SDK's own HTTP client, keeping a copy of every answer."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[Answer] = []

    def request(
        self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None
    ) -> tuple[bytes, int, Mapping[str, str]]:
        content, status, response_headers = super().request(method, url, headers, post_data)
        self.answers.append(Answer(method.upper(), urlsplit(url).path, status, json.loads(content)))
        return content, status, response_headers


@pytest.fixture
def recorder() -> RecordingClient:
    return RecordingClient()


@pytest.fixture
def client(stripe_sandbox: str, recorder: RecordingClient) -> stripe.StripeClient:
    return stripe.StripeClient(
        SANDBOX_API_KEY,
        base_addresses={"api": stripe_sandbox},
        http_client=recorder,
        max_network_retries=0,
    )


def _expect_error(call: Any, *args: Any) -> stripe.StripeError:
    with pytest.raises(stripe.StripeError) as failed:
        call(*args)
    return failed.value


def _connect(client: stripe.StripeClient, control: SandboxControl) -> stripe.Account:
    account = client.v1.accounts.create(
        {"type": "express", "country": "DE", "email": "a@example.com", "metadata": {"k": "v"}}
    )
    client.v1.accounts.retrieve(account.id)
    client.v1.accounts.list({"limit": 3})
    client.v1.accounts.retrieve_current()
    link = client.v1.account_links.create(
        {
            "account": account.id,
            "type": "account_onboarding",
            "refresh_url": "http://accord.test/again",
            "return_url": "http://accord.test/back",
        }
    )
    assert control.complete_onboarding(link.url) == 303
    return client.v1.accounts.retrieve(account.id)


def _pay(client: stripe.StripeClient) -> stripe.PaymentIntent:
    customer = client.v1.customers.create(
        {"email": "l@example.com", "name": "Licensee", "payment_method": "pm_card_visa"}
    )
    client.v1.customers.retrieve(customer.id)
    client.v1.customers.update(customer.id, {"metadata": {"org": "org_1"}})
    client.v1.customers.list({"email": "l@example.com"})
    method = client.v1.payment_methods.attach("pm_card_mastercard", {"customer": customer.id})
    client.v1.payment_methods.retrieve(method.id)
    client.v1.payment_methods.list({"customer": customer.id, "type": "card"})
    client.v1.customers.payment_methods.list(customer.id)
    paid = client.v1.payment_intents.create(
        {
            "amount": 1250,
            "currency": "eur",
            "customer": customer.id,
            "payment_method": method.id,
            "confirm": True,
            "off_session": True,
            "metadata": {"purchase": "pur_1"},
            "transfer_group": "purchase_1",
        }
    )
    later = client.v1.payment_intents.create(
        {"amount": 700, "currency": "eur", "customer": customer.id, "payment_method": method.id}
    )
    client.v1.payment_intents.confirm(later.id)
    client.v1.payment_intents.retrieve(paid.id, {"expand": ["latest_charge", "customer"]})
    client.v1.payment_intents.list({"customer": customer.id})
    assert isinstance(paid.latest_charge, str)
    client.v1.charges.retrieve(paid.latest_charge, {"expand": ["balance_transaction"]})
    client.v1.charges.list({"payment_intent": paid.id})
    client.v1.charges.list({"customer": customer.id, "expand": ["data.customer"]})
    declined = _expect_error(
        client.v1.payment_intents.create,
        {
            "amount": 900,
            "currency": "eur",
            "customer": customer.id,
            "payment_method": "pm_card_chargeDeclined",
            "confirm": True,
        },
    )
    assert declined.http_status == 402
    return paid


def _move_money(client: stripe.StripeClient, account: stripe.Account) -> None:
    topup = client.v1.topups.create(
        {"amount": 5000, "currency": "eur", "description": "float", "metadata": {"k": "v"}}
    )
    client.v1.topups.retrieve(topup.id)
    client.v1.topups.list()
    transfer = client.v1.transfers.create(
        {
            "amount": 1000,
            "currency": "eur",
            "destination": account.id,
            "transfer_group": "batch_1",
            "metadata": {"payout_item": "item_1"},
        },
        {"idempotency_key": "item_1"},
    )
    client.v1.transfers.retrieve(transfer.id, {"expand": ["destination", "balance_transaction"]})
    client.v1.transfers.update(transfer.id, {"description": "royalties"})
    client.v1.transfers.list({"transfer_group": "batch_1"})
    reversal = client.v1.transfers.reversals.create(transfer.id, {"amount": 300})
    client.v1.transfers.reversals.retrieve(transfer.id, reversal.id)
    client.v1.transfers.reversals.list(transfer.id)
    client.v1.transfers.retrieve(transfer.id)
    client.v1.balance.retrieve()
    client.v1.balance.retrieve(options={"stripe_account": account.id})
    transactions = client.v1.balance_transactions.list({"type": "transfer"})
    client.v1.balance_transactions.retrieve(transactions.data[0].id)
    client.v1.balance_transactions.list(options={"stripe_account": account.id})
    events = client.v1.events.list({"type": "transfer.*"})
    client.v1.events.retrieve(events.data[0].id)
    client.v1.events.list({"limit": 100})


def _errors(
    client: stripe.StripeClient, control: SandboxControl, account: str, recorder: RecordingClient
) -> None:
    _expect_error(client.v1.transfers.retrieve, "tr_missing")
    _expect_error(client.v1.topups.create, {"amount": 1, "currency": "eur", "bogus": "x"})
    _expect_error(
        client.v1.transfers.create, {"amount": 10**6, "currency": "eur", "destination": account}
    )
    _expect_error(client.v1.transfers.list, {"limit": 1000})
    _expect_error(
        client.v1.topups.create, {"amount": 2, "currency": "eur"}, {"idempotency_key": "item_1"}
    )
    control.arm_fault("/v1/balance", "status", status=429)
    control.arm_fault("/v1/balance", "status", status=500)
    for _ in range(2):
        _expect_error(client.v1.balance.retrieve)
    bad_key = stripe.StripeClient(
        "sk_live_nope", base_addresses={"api": control.base_url}, http_client=recorder
    )
    _expect_error(bad_key.v1.balance.retrieve)
    _expect_error(client.raw_request, "post", "/v1/balance")  # 405


@pytest.fixture
def exercised(
    client: stripe.StripeClient,
    recorder: RecordingClient,
    stripe_sandbox_control: SandboxControl,
    webhook_receiver: WebhookReceiver,
) -> list[Answer]:
    account = _connect(client, stripe_sandbox_control)
    _pay(client)
    _move_money(client, account)
    _errors(client, stripe_sandbox_control, account.id, recorder)
    return recorder.answers


def test_every_answer_matches_stripes_openapi_schema(exercised: list[Answer]):
    differences = {}
    for answer in exercised:
        errors = openapi_schemas.response_errors(
            answer.method, answer.path, answer.status, answer.body
        )
        if errors:
            differences[f"{answer.method} {answer.path} {answer.status}"] = errors

    assert differences == {}, json.dumps(differences, indent=1)
    assert {answer.status for answer in exercised} >= {200, 400, 401, 402, 404, 405, 429, 500}


def test_every_route_is_exercised(exercised: list[Answer]):
    answered = {(answer.method, answer.path) for answer in exercised if answer.status == 200}

    missed = [
        f"{method} {pattern.pattern}"
        for method, pattern in routes.patterns()
        if not any(m == method and pattern.match(path) for m, path in answered)
    ]
    assert missed == []


def test_every_webhook_event_matches_stripes_event_schema(
    exercised: list[Answer], webhook_receiver: WebhookReceiver
):
    listed = next(
        answer.body
        for answer in reversed(exercised)
        if answer.path == "/v1/events" and answer.status == 200
    )
    count = len(listed["data"])
    events = [json.loads(delivery.body) for delivery in webhook_receiver.wait_for(count, 10)]
    for delivery in webhook_receiver.deliveries:  # what a receiver must accept
        stripe.Webhook.construct_event(delivery.body, delivery.signature, SANDBOX_WEBHOOK_SECRET)

    differences = {
        f"{event['type']} {event['id']}": errors
        for event in events
        if (errors := openapi_schemas.event_errors(event))
    }
    assert differences == {}, json.dumps(differences, indent=1)
    assert {event["type"] for event in events} == {
        "account.updated",
        "customer.created",
        "customer.updated",
        "payment_method.attached",
        "payment_intent.created",
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "charge.succeeded",
        "charge.failed",
        "transfer.created",
        "transfer.updated",
        "transfer.reversed",
        "topup.created",
        "topup.succeeded",
    }


def test_the_named_differences_of_issue_19_are_gone(client: stripe.StripeClient):
    customer = client.v1.customers.create({"payment_method": "pm_card_visa"})
    method = client.v1.payment_methods.list({"customer": customer.id})
    intent = client.v1.payment_intents.create(
        {
            "amount": 100,
            "currency": "eur",
            "customer": customer.id,
            "payment_method": method.data[0].id,
            "confirm": True,
        }
    )
    charge = client.v1.charges.retrieve(str(intent.latest_charge))

    assert method.url == "/v1/payment_methods"
    assert client.v1.customers.payment_methods.list(customer.id).url == (
        f"/v1/customers/{customer.id}/payment_methods"
    )
    assert charge.disputed is False
    assert charge.billing_details.to_dict() == {
        "address": None,
        "email": None,
        "name": None,
        "phone": None,
    }


def test_the_validator_catches_what_it_should():
    """The check itself: an answer missing a required field, or inventing one, fails."""
    spec = openapi_schemas.raw_spec()
    assert spec["info"]["version"] == "2024-04-10"
    charge = {
        "id": "ch_1",
        "object": "charge",
        "amount": 100,
        "amount_captured": 100,
        "amount_refunded": 0,
        "billing_details": {"address": None, "email": None, "name": None, "phone": None},
        "captured": True,
        "created": 1,
        "currency": "eur",
        "disputed": False,
        "livemode": False,
        "metadata": {},
        "paid": True,
        "refunded": False,
        "status": "succeeded",
        "customer": "cus_1",
    }
    assert openapi_schemas.object_errors(charge) == []
    assert openapi_schemas.object_errors({**charge, "customer": {"id": "cus_1"}}) != []
    without = {key: value for key, value in charge.items() if key != "disputed"}
    assert any("disputed" in error for error in openapi_schemas.object_errors(without))
    invented = {**charge, "dispute_count": 0}
    assert any("dispute_count" in error for error in openapi_schemas.object_errors(invented))
    assert openapi_schemas.object_errors(invented, strict=False) == []
    assert openapi_schemas.object_errors({**charge, "customer": None}) == []
    assert openapi_schemas.object_errors({**charge, "amount": None}) != []
    wrong_url = {"object": "list", "data": [], "has_more": False, "url": "/v1/customers/x/y"}
    assert openapi_schemas.response_errors("GET", "/v1/payment_methods", 200, wrong_url) == [
        "url: '/v1/customers/x/y' does not match '^/v1/payment_methods'"
    ]
