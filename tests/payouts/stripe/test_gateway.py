"""Accord's Stripe gateway against the local sandbox, through the real SDK."""

from __future__ import annotations

import pytest
import stripe

from payouts.stripe import gateway
from payouts.stripe.errors import (
    AccountNotReady,
    CardDeclined,
    GatewayError,
    GatewayErrorCode,
    GatewayUnavailable,
    InsufficientBalance,
)
from payouts.stripe.results import Account, Transfer
from tests.fixtures.stripe_sandbox import SandboxControl

pytestmark = pytest.mark.usefixtures("stripe_sandbox_settings")


def _onboarded_account(control: SandboxControl, creator_id: int) -> Account:
    account = gateway.account_create(
        idempotency_key=f"creator-{creator_id}-account", country="DE", metadata={"creator": "1"}
    )
    link = gateway.account_link_create(
        account_id=account.id,
        refresh_url="http://accord.test/refresh",
        return_url="http://accord.test/return",
        idempotency_key=f"creator-{creator_id}-link-1",
    )
    assert control.complete_onboarding(link.url) == 303
    return gateway.account_retrieve(account_id=account.id)


def _transfer(destination: str, key: str = "payout-item-1") -> Transfer:
    return gateway.transfer_create(
        idempotency_key=key,
        destination=destination,
        amount=1_250,
        currency="eur",
        transfer_group="payout-batch-1",
        metadata={"payout_item": key},
    )


def test_a_creator_is_paid_only_after_onboarding(stripe_sandbox_control: SandboxControl):
    account = gateway.account_create(idempotency_key="creator-1-account", country="DE")
    gateway.topup_create(idempotency_key="topup-1", amount=5_000, currency="eur")

    assert not account.ready_for_transfers
    with pytest.raises(AccountNotReady) as not_ready:
        _transfer(account.id)
    assert not_ready.value.code == GatewayErrorCode.ACCOUNT_NOT_READY
    assert not_ready.value.retryable is False

    link = gateway.account_link_create(
        account_id=account.id,
        refresh_url="http://accord.test/refresh",
        return_url="http://accord.test/return",
        idempotency_key="creator-1-link-1",
    )
    assert stripe_sandbox_control.complete_onboarding(link.url) == 303
    onboarded = gateway.account_retrieve(account_id=account.id)
    # Stripe replays the refusal under the first key, so a new attempt needs a new key.
    transfer = _transfer(account.id, key="payout-item-1-refusal-1")

    assert (onboarded.details_submitted, onboarded.payouts_enabled) == (True, True)
    assert onboarded.ready_for_transfers
    assert (transfer.amount, transfer.currency, transfer.destination) == (1_250, "eur", account.id)
    assert transfer.metadata == {"payout_item": "payout-item-1-refusal-1"}
    assert gateway.balance_retrieve().available == {"eur": 3_750}


def test_a_refusal_is_replayed_under_its_key_even_once_its_cause_is_fixed(
    stripe_sandbox_control: SandboxControl,
):
    account = _onboarded_account(stripe_sandbox_control, 1)
    with pytest.raises(InsufficientBalance):
        _transfer(account.id, key="payout-item-5")
    gateway.topup_create(idempotency_key="topup-1", amount=5_000, currency="eur")

    with pytest.raises(InsufficientBalance):
        _transfer(account.id, key="payout-item-5")
    transfer = _transfer(account.id, key="payout-item-5-refusal-1")

    assert [item.id for item in gateway.transfers_list().items] == [transfer.id]


def test_transfer_above_the_balance_raises_insufficient_balance(
    stripe_sandbox_control: SandboxControl,
):
    account = _onboarded_account(stripe_sandbox_control, 1)
    gateway.topup_create(idempotency_key="topup-1", amount=1_000, currency="eur")

    with pytest.raises(InsufficientBalance) as insufficient:
        _transfer(account.id)

    assert insufficient.value.stripe_code == "balance_insufficient"
    assert gateway.transfers_list().items == ()


def test_card_on_file_is_charged_off_session():
    customer = gateway.customer_create_with_payment_method(
        idempotency_key="org-3-customer", payment_method="pm_card_visa", email="lab@example.com"
    )

    intent = gateway.payment_intent_confirm_off_session(
        idempotency_key="license-8-payment",
        customer_id=customer.id,
        payment_method_id=customer.payment_method_id,
        amount=4_200,
        currency="eur",
        metadata={"license": "8"},
    )

    assert (intent.status, intent.amount_received) == ("succeeded", 4_200)
    assert gateway.payment_intent_retrieve(payment_intent_id=intent.id) == intent
    assert gateway.balance_retrieve().available == {"eur": 4_200}
    again = gateway.customer_create_with_payment_method(
        idempotency_key="org-3-customer", payment_method="pm_card_visa", email="lab@example.com"
    )
    assert again == customer  # a retried setup finds every step done


def test_declined_card_raises_card_declined_with_the_payment_intent():
    customer = gateway.customer_create_with_payment_method(
        idempotency_key="org-4-customer", payment_method="pm_card_chargeDeclined"
    )

    with pytest.raises(CardDeclined) as declined:
        gateway.payment_intent_confirm_off_session(
            idempotency_key="license-9-payment",
            customer_id=customer.id,
            payment_method_id=customer.payment_method_id,
            amount=4_200,
            currency="eur",
        )

    assert declined.value.http_status == 402
    assert declined.value.decline_code == "generic_decline"
    assert declined.value.payment_intent_id is not None
    intent = gateway.payment_intent_retrieve(payment_intent_id=declined.value.payment_intent_id)
    assert intent.status == "requires_payment_method"
    assert gateway.balance_retrieve().available.get("eur", 0) == 0


def test_a_lost_answer_is_retried_with_the_same_key_and_pays_once(
    stripe_sandbox_control: SandboxControl, stripe_client: stripe.StripeClient
):
    account = _onboarded_account(stripe_sandbox_control, 1)
    gateway.topup_create(idempotency_key="topup-1", amount=5_000, currency="eur")
    stripe_sandbox_control.arm_fault("/v1/transfers", "drop_after", method="POST")

    transfer = _transfer(account.id)

    listed = stripe_client.v1.transfers.list({"transfer_group": "payout-batch-1"}).data
    assert [item.id for item in listed] == [transfer.id]
    assert gateway.balance_retrieve().available == {"eur": 3_750}


def test_answers_lost_past_the_sdk_retries_raise_unavailable_and_a_later_retry_pays_once(
    stripe_sandbox_control: SandboxControl, stripe_client: stripe.StripeClient
):
    account = _onboarded_account(stripe_sandbox_control, 1)
    gateway.topup_create(idempotency_key="topup-1", amount=5_000, currency="eur")
    attempts = gateway.NETWORK_RETRIES_MAX + 1
    stripe_sandbox_control.arm_fault("/v1/transfers", "drop_after", method="POST", count=attempts)

    with pytest.raises(GatewayUnavailable) as unavailable:
        _transfer(account.id)
    assert unavailable.value.retryable is True
    transfer = _transfer(account.id)  # e.g. the payout task's next attempt, same key

    listed = stripe_client.v1.transfers.list({"transfer_group": "payout-batch-1"}).data
    assert [item.id for item in listed] == [transfer.id]
    assert gateway.balance_retrieve().available == {"eur": 3_750}


def test_server_errors_are_retried_then_reported_unavailable(
    stripe_sandbox_control: SandboxControl,
):
    stripe_sandbox_control.arm_fault("/v1/topups", "status", status=503)
    topup = gateway.topup_create(idempotency_key="topup-1", amount=100, currency="eur")
    assert topup.status == "succeeded"

    attempts = gateway.NETWORK_RETRIES_MAX + 1
    stripe_sandbox_control.arm_fault("/v1/balance", "status", status=500, count=attempts)
    with pytest.raises(GatewayUnavailable):
        gateway.balance_retrieve()


def test_rate_limiting_is_unavailable_not_a_failure(stripe_sandbox_control: SandboxControl):
    stripe_sandbox_control.arm_fault("/v1/balance", "status", status=429)

    with pytest.raises(GatewayUnavailable) as limited:
        gateway.balance_retrieve()

    assert limited.value.stripe_code == "rate_limit"


def test_a_key_reused_with_other_parameters_is_a_programming_error():
    gateway.topup_create(idempotency_key="topup-1", amount=100, currency="eur")

    with pytest.raises(GatewayError) as mismatch:
        gateway.topup_create(idempotency_key="topup-1", amount=200, currency="eur")

    assert mismatch.value.code == GatewayErrorCode.IDEMPOTENCY_MISMATCH
    assert gateway.balance_retrieve().available == {"eur": 100}


def test_reversal_lists_and_balance_transactions(stripe_sandbox_control: SandboxControl):
    account = _onboarded_account(stripe_sandbox_control, 1)
    gateway.topup_create(idempotency_key="topup-1", amount=5_000, currency="eur")
    transfer = _transfer(account.id)

    reversal = gateway.transfer_reverse(
        idempotency_key="payout-item-1-reversal", transfer_id=transfer.id, amount=250
    )

    assert (reversal.transfer_id, reversal.amount) == (transfer.id, 250)
    assert gateway.transfer_retrieve(transfer_id=transfer.id).amount_reversed == 250
    by_group = gateway.transfers_list(transfer_group="payout-batch-1")
    by_account = gateway.transfers_list(destination=account.id, limit=1)
    assert [item.id for item in by_group.items] == [transfer.id]
    assert (len(by_account.items), by_account.has_more) == (1, False)
    transactions = gateway.balance_transactions_list().items
    assert [t.type for t in transactions] == ["transfer_refund", "transfer", "topup"]
    assert sum(t.net for t in transactions) == gateway.balance_retrieve().available["eur"]
    assert transfer.balance_transaction_id == transactions[1].id
    topups = gateway.balance_transactions_list(transaction_type="topup").items
    assert [t.amount for t in topups] == [5_000]


def test_unknown_objects_are_not_found():
    with pytest.raises(GatewayError) as missing:
        gateway.transfer_retrieve(transfer_id="tr_missing")

    assert missing.value.code == GatewayErrorCode.NOT_FOUND


def test_proxy_variables_are_read_once_for_stripes_address(monkeypatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    through_proxy = gateway._http_client("https://api.stripe.com")
    direct = gateway._http_client("http://127.0.0.1:12111")

    assert through_proxy._proxy == {"https": "http://proxy.internal:3128"}
    assert direct._proxy is None
    # Nothing is looked up per request any more: the session ignores the environment.
    assert through_proxy._session.trust_env is False
