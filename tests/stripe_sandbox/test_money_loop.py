"""What payout dispatch and reconciliation need from the sandbox, through the SDK.

Dispatch: one transfer per item with its own idempotency key, the batch's
`transfer_group` and the item id in metadata; an item whose answer was lost is looked
up by listing the group. Reconciliation: a day's transfers, charges and balance
transactions read with `created[gte]`/`created[lt]`. Onboarding: payouts turned off
and on again with `account.updated`.
"""

from __future__ import annotations

import pytest
import stripe

from tests.fixtures.stripe_sandbox import SandboxControl
from tests.stripe_sandbox.helpers import fund_platform, onboarded_account

DAY = 86_400


def _pay(client: stripe.StripeClient, amount: int, group: str | None = None) -> stripe.Charge:
    customer = client.v1.customers.create({"payment_method": "pm_card_visa"})
    method = client.v1.payment_methods.list({"customer": customer.id}).data[0]
    params: stripe.PaymentIntentCreateParams = {
        "amount": amount,
        "currency": "eur",
        "customer": customer.id,
        "payment_method": method.id,
        "confirm": True,
        "off_session": True,
    }
    if group is not None:
        params["transfer_group"] = group
    intent = client.v1.payment_intents.create(params)
    return client.v1.charges.retrieve(str(intent.latest_charge))


def _pay_item(
    client: stripe.StripeClient, destination: str, item: str, batch: str
) -> stripe.Transfer:
    return client.v1.transfers.create(
        {
            "amount": 100,
            "currency": "eur",
            "destination": destination,
            "transfer_group": batch,
            "metadata": {"payout_item": item},
        },
        {"idempotency_key": f"payout-item-{item}"},
    )


def test_an_item_of_unknown_outcome_is_found_by_listing_its_batch_group(
    stripe_client: stripe.StripeClient, stripe_sandbox_control: SandboxControl
):
    account = onboarded_account(stripe_client, stripe_sandbox_control)
    fund_platform(stripe_client, 1_000)
    _pay_item(stripe_client, account.id, "item_1", "batch_7")
    _pay_item(stripe_client, account.id, "other_1", "batch_8")
    stripe_sandbox_control.arm_fault("/v1/transfers", "drop_after", method="POST")

    with pytest.raises(stripe.APIConnectionError):
        _pay_item(stripe_client, account.id, "item_2", "batch_7")  # done, answer lost
    _pay_item(stripe_client, account.id, "item_3", "batch_7")

    # Before retrying item_2, ask Stripe: page through the batch's group, match metadata.
    listed = stripe_client.v1.transfers.list({"transfer_group": "batch_7", "limit": 2})
    by_item = {t.metadata["payout_item"]: t.id for t in listed.auto_paging_iter()}
    assert sorted(by_item) == ["item_1", "item_2", "item_3"]
    # A retry under the item's key would have replayed the same transfer, not made one.
    replayed = _pay_item(stripe_client, account.id, "item_2", "batch_7")
    assert replayed.id == by_item["item_2"]
    assert replayed.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(stripe_client.v1.transfers.list({"limit": 100}).data) == 4


def test_a_day_is_read_with_created_ranges(
    stripe_client: stripe.StripeClient, stripe_sandbox_control: SandboxControl
):
    account = onboarded_account(stripe_client, stripe_sandbox_control)
    fund_platform(stripe_client, 1_000)
    yesterday_charge = _pay(stripe_client, 500)
    yesterday_transfer = _pay_item(stripe_client, account.id, "a", "batch_1")
    today = stripe_sandbox_control.advance_clock(DAY)
    today_charge = _pay(stripe_client, 700)
    today_transfer = _pay_item(stripe_client, account.id, "b", "batch_2")
    stripe_sandbox_control.advance_clock(DAY)
    _pay(stripe_client, 900)  # tomorrow
    day: stripe.TransferListParamsCreated = {"gte": today, "lt": today + DAY}

    transfers = stripe_client.v1.transfers.list({"created": day}).data
    charges = stripe_client.v1.charges.list({"created": day}).data
    transactions = stripe_client.v1.balance_transactions.list({"created": day}).data
    of_type = stripe_client.v1.balance_transactions.list({"created": day, "type": "charge"})

    assert [t.id for t in transfers] == [today_transfer.id]
    assert [c.id for c in charges] == [today_charge.id]
    assert sorted((t.type, t.amount) for t in transactions) == [("charge", 700), ("transfer", -100)]
    assert [t.source for t in of_type.data] == [today_charge.id]
    assert [c.id for c in stripe_client.v1.charges.list({"created": {"lt": today}}).data] == [
        yesterday_charge.id
    ]
    assert stripe_client.v1.transfers.list({"created": {"lte": today - 1}}).data[0].id == (
        yesterday_transfer.id
    )
    exact = stripe_client.v1.charges.list({"created": today_charge.created}).data  # type: ignore[typeddict-item]
    assert [c.id for c in exact] == [today_charge.id]
    events = stripe_client.v1.events.list({"created": day, "limit": 100}).data
    assert sorted(event.type for event in events) == [
        "charge.succeeded",
        "customer.created",
        "payment_intent.created",
        "payment_intent.succeeded",
        "payment_method.attached",
        "transfer.created",
    ]


@pytest.mark.parametrize(
    ("created", "code", "param"),
    [
        ({"gte": "yesterday"}, "parameter_invalid_integer", "created[gte]"),
        ({"since": "1"}, "parameter_unknown", "created[since]"),
        ("-1", "parameter_invalid_integer", "created"),
    ],
)
def test_a_bad_created_filter_is_refused(
    stripe_client: stripe.StripeClient, created: object, code: str, param: str
):
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe_client.v1.transfers.list({"created": created})  # type: ignore[typeddict-item]

    assert (refused.value.http_status, refused.value.code, refused.value.param) == (
        400,
        code,
        param,
    )


def test_charges_are_listed_by_customer_payment_intent_and_group(
    stripe_client: stripe.StripeClient,
):
    first = _pay(stripe_client, 500, group="purchase_1")
    second = _pay(stripe_client, 600)

    everything = stripe_client.v1.charges.list().data
    by_customer = stripe_client.v1.charges.list({"customer": str(first.customer)}).data
    by_intent = stripe_client.v1.charges.list({"payment_intent": str(second.payment_intent)})
    by_group = stripe_client.v1.charges.list({"transfer_group": "purchase_1"}).data

    assert [c.id for c in everything] == [second.id, first.id]
    assert [c.id for c in by_customer] == [first.id]
    assert [c.id for c in by_intent.data] == [second.id]
    assert [c.id for c in by_group] == [first.id]
    assert sum(c.amount_captured for c in everything) == 1_100


def test_payouts_turned_off_and_on_send_account_updated(
    stripe_client: stripe.StripeClient, stripe_sandbox_control: SandboxControl
):
    account = onboarded_account(stripe_client, stripe_sandbox_control)
    fund_platform(stripe_client, 1_000)

    stripe_sandbox_control.set_payouts(account.id, enabled=False)

    [disabled, onboarded] = stripe_client.v1.events.list({"type": "account.updated"}).data
    assert (disabled.account, disabled.data.object.payouts_enabled) == (account.id, False)
    assert disabled.data.previous_attributes.payouts_enabled is True
    assert disabled.data.object.requirements.disabled_reason == "requirements.past_due"
    assert onboarded.data.object.payouts_enabled is True
    with pytest.raises(stripe.InvalidRequestError) as refused:
        _pay_item(stripe_client, account.id, "held", "batch_1")
    assert refused.value.code == "insufficient_capabilities_for_transfer"

    stripe_sandbox_control.set_payouts(account.id, enabled=True)
    _pay_item(stripe_client, account.id, "released", "batch_2")
    assert stripe_client.v1.accounts.retrieve(account.id).payouts_enabled is True
    assert len(stripe_client.v1.events.list({"type": "account.updated"}).data) == 3


def test_payouts_cannot_be_turned_on_before_onboarding(
    stripe_client: stripe.StripeClient, stripe_sandbox_control: SandboxControl
):
    account = stripe_client.v1.accounts.create({"type": "express"})

    with pytest.raises(AssertionError, match="has not completed onboarding"):
        stripe_sandbox_control.set_payouts(account.id, enabled=True)
    assert stripe_client.v1.events.list({"type": "account.updated"}).data == []
