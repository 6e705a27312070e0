"""Stripe's HTTP conventions: auth, unknown parameters and URLs, lists and pagination."""

from __future__ import annotations

import pytest
import stripe


def test_only_test_mode_secret_keys_are_accepted(stripe_sandbox: str):
    for key in ("sk_live_abcdefghijkl", "pk_test_abcdefghijkl", "sk_test_"):
        client = stripe.StripeClient(key, base_addresses={"api": stripe_sandbox})
        with pytest.raises(stripe.AuthenticationError) as denied:
            client.v1.balance.retrieve()
        assert denied.value.http_status == 401


def test_unknown_parameter_is_rejected_not_ignored(stripe_client: stripe.StripeClient):
    with pytest.raises(stripe.InvalidRequestError) as rejected:
        stripe_client.v1.topups.create(
            {"amount": 1, "currency": "eur", "destnation": "acct_x"}  # type: ignore[typeddict-unknown-key]
        )

    assert (rejected.value.code, rejected.value.param) == ("parameter_unknown", "destnation")
    assert stripe_client.v1.topups.list().data == []


def test_unknown_object_is_a_404_resource_missing(stripe_client: stripe.StripeClient):
    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe_client.v1.accounts.retrieve("acct_missing")

    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")


def test_unrecognized_url_is_a_404(stripe_client: stripe.StripeClient):
    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe_client.raw_request("get", "/v1/nothing_here")

    assert missing.value.http_status == 404


def test_pagination_walks_forward_and_back(stripe_client: stripe.StripeClient):
    created = [stripe_client.v1.customers.create({"name": f"c{n}"}).id for n in range(7)]
    newest_first = list(reversed(created))

    page_1 = stripe_client.v1.customers.list({"limit": 3})
    page_2 = stripe_client.v1.customers.list({"limit": 3, "starting_after": page_1.data[-1].id})
    page_3 = stripe_client.v1.customers.list({"limit": 3, "starting_after": page_2.data[-1].id})
    back = stripe_client.v1.customers.list({"limit": 3, "ending_before": page_3.data[0].id})

    assert page_1.object == "list"
    assert page_1.url == "/v1/customers"
    assert [c.id for c in page_1.data + page_2.data + page_3.data] == newest_first
    assert (page_1.has_more, page_2.has_more, page_3.has_more) == (True, True, False)
    assert [c.id for c in back.data] == [c.id for c in page_2.data]
    assert back.has_more is True
    assert [c.id for c in page_1.auto_paging_iter()] == newest_first


def test_list_limit_is_bounded_and_cursors_must_exist(stripe_client: stripe.StripeClient):
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.customers.list({"limit": 101})
    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe_client.v1.customers.list({"starting_after": "cus_missing"})

    assert missing.value.param == "starting_after"


def test_expand_replaces_ids_with_objects(stripe_client: stripe.StripeClient):
    intent = stripe_client.v1.payment_intents.create(
        {
            "amount": 500,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "expand": ["latest_charge.balance_transaction"],
        }
    )

    assert intent.latest_charge.object == "charge"
    assert intent.latest_charge.balance_transaction.amount == 500


def test_event_list_and_retrieve(stripe_client: stripe.StripeClient):
    customer = stripe_client.v1.customers.create({"email": "e@example.com"})

    [event] = stripe_client.v1.events.list({"type": "customer.created"}).data
    fetched = stripe_client.v1.events.retrieve(event.id)

    assert event.id.startswith("evt_")
    assert fetched.data.object.id == customer.id
    assert fetched.request.idempotency_key  # the SDK sent one, as it does on every POST
