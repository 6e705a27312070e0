"""Connect accounts, onboarding and transfers, driven through the stripe SDK."""

from __future__ import annotations

import pytest
import stripe

from tests.fixtures.stripe_sandbox import SandboxControl
from tests.stripe_sandbox.helpers import available, fund_platform, onboarded_account


def test_new_express_account_cannot_receive_transfers_yet(stripe_client: stripe.StripeClient):
    account = stripe_client.v1.accounts.create(
        {
            "type": "express",
            "country": "FR",
            "email": "ada@example.com",
            "metadata": {"creator": "7"},
        }
    )

    assert account.id.startswith("acct_")
    assert account.default_currency == "eur"
    assert (account.details_submitted, account.charges_enabled, account.payouts_enabled) == (
        False,
        False,
        False,
    )
    assert account.capabilities.transfers == "inactive"
    assert stripe_client.v1.accounts.retrieve(account.id).metadata.to_dict() == {"creator": "7"}


def test_transfer_to_account_without_onboarding_is_rejected_then_succeeds_after_it(
    stripe_client: stripe.StripeClient, stripe_sandbox_control: SandboxControl
):
    fund_platform(stripe_client, 5_000)
    account = stripe_client.v1.accounts.create({"type": "express", "country": "DE"})

    with pytest.raises(stripe.InvalidRequestError) as rejected:
        stripe_client.v1.transfers.create(
            {"amount": 1_000, "currency": "eur", "destination": account.id}
        )
    assert rejected.value.http_status == 400
    assert rejected.value.code == "insufficient_capabilities_for_transfer"
    assert available(stripe_client) == 5_000
    assert stripe_client.v1.transfers.list().data == []

    link = stripe_client.v1.account_links.create(
        {
            "account": account.id,
            "type": "account_onboarding",
            "refresh_url": "http://accord/refresh",
            "return_url": "http://accord/back",
        }
    )
    assert link.url.startswith(stripe_client._requestor.base_addresses["api"])
    assert stripe_sandbox_control.complete_onboarding(link.url) == 303

    onboarded = stripe_client.v1.accounts.retrieve(account.id)
    assert (onboarded.details_submitted, onboarded.charges_enabled, onboarded.payouts_enabled) == (
        True,
        True,
        True,
    )
    transfer = stripe_client.v1.transfers.create(
        {"amount": 1_000, "currency": "eur", "destination": account.id}
    )
    assert transfer.destination == account.id
    assert available(stripe_client) == 4_000
    assert available(stripe_client, account=account.id) == 1_000


def test_onboarding_sends_account_updated_and_the_link_works_once(
    stripe_client: stripe.StripeClient, stripe_sandbox_control: SandboxControl
):
    account = stripe_client.v1.accounts.create({"type": "express"})
    link = stripe_client.v1.account_links.create(
        {
            "account": account.id,
            "type": "account_onboarding",
            "refresh_url": "http://accord/refresh",
        }
    )

    assert stripe_sandbox_control.complete_onboarding(link.url, business_name="Lumen") == 200

    [event] = stripe_client.v1.events.list({"type": "account.updated"}).data
    assert event.account == account.id
    assert event.data.object.id == account.id
    assert event.data.object.payouts_enabled is True
    assert event.data.object.business_profile.name == "Lumen"
    assert event.data.previous_attributes.payouts_enabled is False
    with pytest.raises(AssertionError):
        stripe_sandbox_control.complete_onboarding(link.url)  # used: redirects to refresh_url


def test_transfer_above_available_balance_fails_and_moves_nothing(
    stripe_client: stripe.StripeClient, stripe_sandbox_control: SandboxControl
):
    account = onboarded_account(stripe_client, stripe_sandbox_control)
    fund_platform(stripe_client, 999)

    with pytest.raises(stripe.InvalidRequestError) as rejected:
        stripe_client.v1.transfers.create(
            {"amount": 1_000, "currency": "eur", "destination": account.id}
        )

    assert rejected.value.code == "balance_insufficient"
    assert available(stripe_client) == 999
    assert stripe_client.v1.transfers.list().data == []
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.transfers.create(  # funds in another currency do not count
            {"amount": 10, "currency": "usd", "destination": account.id}
        )


def test_transfer_to_unknown_account_is_resource_missing(stripe_client: stripe.StripeClient):
    fund_platform(stripe_client, 100)

    with pytest.raises(stripe.InvalidRequestError) as rejected:
        stripe_client.v1.transfers.create(
            {"amount": 10, "currency": "eur", "destination": "acct_nobody"}
        )

    assert (rejected.value.code, rejected.value.param) == ("resource_missing", "destination")


def test_transfers_list_filters_by_group_and_destination(
    stripe_client: stripe.StripeClient, stripe_sandbox_control: SandboxControl
):
    first = onboarded_account(stripe_client, stripe_sandbox_control)
    second = onboarded_account(stripe_client, stripe_sandbox_control)
    fund_platform(stripe_client, 1_000)
    for destination, group in ((first, "batch_1"), (second, "batch_1"), (first, "batch_2")):
        stripe_client.v1.transfers.create(
            {
                "amount": 100,
                "currency": "eur",
                "destination": destination.id,
                "transfer_group": group,
                "metadata": {"payout_item": f"{destination.id}:{group}"},
            }
        )

    batch_1 = stripe_client.v1.transfers.list({"transfer_group": "batch_1"}).data
    to_first = stripe_client.v1.transfers.list({"destination": first.id}).data

    assert [t.destination for t in batch_1] == [second.id, first.id]  # newest first
    assert [t.transfer_group for t in to_first] == ["batch_2", "batch_1"]
    assert to_first[0].metadata.to_dict() == {"payout_item": f"{first.id}:batch_2"}
    assert stripe_client.v1.transfers.retrieve(to_first[1].id).amount == 100


def test_reversals_return_funds_and_send_transfer_reversed(
    stripe_client: stripe.StripeClient, stripe_sandbox_control: SandboxControl
):
    account = onboarded_account(stripe_client, stripe_sandbox_control)
    fund_platform(stripe_client, 1_000)
    transfer = stripe_client.v1.transfers.create(
        {"amount": 600, "currency": "eur", "destination": account.id}
    )

    partial = stripe_client.v1.transfers.reversals.create(transfer.id, {"amount": 200})
    rest = stripe_client.v1.transfers.reversals.create(transfer.id)

    assert partial.id.startswith("trr_")
    assert (partial.amount, rest.amount) == (200, 400)
    reversed_transfer = stripe_client.v1.transfers.retrieve(transfer.id)
    assert (reversed_transfer.amount_reversed, reversed_transfer.reversed) == (600, True)
    listed = stripe_client.v1.transfers.reversals.list(transfer.id).data
    assert [item.id for item in listed] == [rest.id, partial.id]
    assert available(stripe_client) == 1_000
    assert available(stripe_client, account=account.id) == 0
    events = stripe_client.v1.events.list({"type": "transfer.reversed"}).data
    assert [event.data.object.amount_reversed for event in events] == [600, 200]
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.transfers.reversals.create(transfer.id, {"amount": 1})


def test_balance_transactions_add_up_to_the_balance(
    stripe_client: stripe.StripeClient, stripe_sandbox_control: SandboxControl
):
    account = onboarded_account(stripe_client, stripe_sandbox_control)
    fund_platform(stripe_client, 2_000)
    transfer = stripe_client.v1.transfers.create(
        {"amount": 750, "currency": "eur", "destination": account.id}
    )
    stripe_client.v1.transfers.reversals.create(transfer.id, {"amount": 50})

    transactions = stripe_client.v1.balance_transactions.list({"limit": 100}).data

    assert [t.type for t in transactions] == ["transfer_refund", "transfer", "topup"]
    assert sum(t.net for t in transactions) == available(stripe_client) == 1_300
    assert transactions[1].source == transfer.id
    assert transfer.balance_transaction == transactions[1].id
    only_topups = stripe_client.v1.balance_transactions.list({"type": "topup"}).data
    assert [t.amount for t in only_topups] == [2_000]
