"""The Stripe calls (webhook signatures are `signatures.py`, errors and results their own).

Everything else calls these functions and gets plain frozen dataclasses back, or one
of this module's `GatewayError`s; nothing outside imports `stripe`. That keeps three
promises in one place:

- **No double money movement.** Every POST takes an `idempotency_key` that the caller
  derives from its own row (a payout item's id, never an attempt number), so a retry
  after a timeout, a crash or a lost answer replays Stripe's first answer instead of
  paying twice. The SDK retries network errors, 409s and 5xx itself, a bounded number
  of times (`NETWORK_RETRIES_MAX`), always with the same key.
- **Which key after a failure.** After `GatewayUnavailable` the outcome is unknown:
  retry with the *same* key (Stripe replays what happened, or runs it if nothing
  did). After a definite refusal (`CardDeclined`, `InsufficientBalance`,
  `AccountNotReady`, an invalid request) Stripe stores the refusal under the key and
  replays it for 24 hours even once the cause is fixed: to try again, derive a *new*
  key, e.g. from a refusal counter kept on the row (`payout-item-17-refusal-1`).
- **One vocabulary of failures.** `stripe.StripeError`s become `CardDeclined`,
  `InsufficientBalance`, `AccountNotReady`, `GatewayUnavailable` (retry later, same
  key) or a plain `GatewayError`, each with a stable code and a `retryable` flag.
- **Same code, sandbox or Stripe.** `STRIPE_SECRET_KEY` and `STRIPE_API_BASE` (the
  local sandbox's URL; empty for real Stripe) choose where requests go. A
  `stripe.StripeClient` is built from them: no module-level SDK state.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import requests
import stripe
from django.conf import settings

from payouts.stripe.errors import (
    gateway_errors_translated,
)
from payouts.stripe.results import (
    Account,
    AccountLink,
    Balance,
    BalanceTransaction,
    Charge,
    CreatedRange,
    Customer,
    Page,
    PaymentIntent,
    Topup,
    Transfer,
    TransferReversal,
    account_from,
    balance_transaction_from,
    charge_from,
    payment_intent_from,
    transfer_from,
)

STRIPE_API_ADDRESS = "https://api.stripe.com"
NETWORK_RETRIES_MAX = 2
REQUEST_TIMEOUT_SECONDS = 30
IDEMPOTENCY_KEY_CHARS_MAX = 255
LIST_LIMIT_MAX = 100


# -- the client ------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _client_for(secret_key: str, api_base: str) -> stripe.StripeClient:
    base_addresses: dict[str, Any] = {}
    if api_base:
        base_addresses = {"api": api_base, "connect": api_base, "files": api_base}
    return stripe.StripeClient(
        secret_key,
        base_addresses=base_addresses,
        max_network_retries=NETWORK_RETRIES_MAX,
        http_client=_http_client(api_base or STRIPE_API_ADDRESS),
    )


def _http_client(api_base: str) -> stripe.RequestsClient:
    """An HTTP client that reads the proxy settings once, not on every call.

    requests looks the proxy variables up in the environment for every request, which
    was a fifth of the CPU a charge cost; they are read here, for Stripe's address.
    The threads of a process share the session (its connection pool is thread-safe).
    """
    session = requests.Session()
    session.trust_env = False
    proxies = {
        scheme: address
        for scheme, address in requests.utils.get_environ_proxies(api_base).items()
        if scheme in {"http", "https"}
    }
    return stripe.RequestsClient(
        timeout=REQUEST_TIMEOUT_SECONDS, session=session, proxy=proxies or None
    )


def _client() -> stripe.StripeClient:
    """Return the client for the current settings (cached, so connections are reused)."""
    assert settings.STRIPE_SECRET_KEY, "STRIPE_SECRET_KEY must be set"
    return _client_for(settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE or "")


def _post_options(idempotency_key: str) -> stripe.RequestOptions:
    assert idempotency_key, "derive the idempotency key from the caller's own row"
    assert len(idempotency_key) <= IDEMPOTENCY_KEY_CHARS_MAX, idempotency_key
    return {"idempotency_key": idempotency_key}


def _created_filter(params: dict[str, Any], created: CreatedRange | None) -> None:
    if created is not None:
        assert created.gte < created.lt, created
        params["created"] = {"gte": created.gte, "lt": created.lt}


def _read_options(network_retries: int | None) -> stripe.RequestOptions:
    return {} if network_retries is None else {"max_network_retries": network_retries}


def _metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    return dict(metadata or {})


def _list_params(limit: int, starting_after: str | None, **filters: str | None) -> dict[str, Any]:
    assert 1 <= limit <= LIST_LIMIT_MAX, limit
    params: dict[str, Any] = {"limit": limit}
    if starting_after:
        params["starting_after"] = starting_after
    params.update({name: value for name, value in filters.items() if value is not None})
    return params


# -- connected accounts ----------------------------------------------------------------


def account_create(
    *,
    idempotency_key: str,
    country: str,
    email: str | None = None,
    metadata: Mapping[str, str] | None = None,
) -> Account:
    """Create an Express connected account that can receive transfers once onboarded."""
    params: dict[str, Any] = {
        "type": "express",
        "country": country,
        "capabilities": {"transfers": {"requested": True}},
        "metadata": _metadata(metadata),
    }
    if email:
        params["email"] = email
    with gateway_errors_translated():
        return account_from(_client().v1.accounts.create(params, _post_options(idempotency_key)))


def account_link_create(
    *, account_id: str, refresh_url: str, return_url: str, idempotency_key: str
) -> AccountLink:
    """Create a one-time onboarding link for a creator (it expires in minutes)."""
    params: dict[str, Any] = {
        "account": account_id,
        "type": "account_onboarding",
        "refresh_url": refresh_url,
        "return_url": return_url,
    }
    with gateway_errors_translated():
        link = _client().v1.account_links.create(params, _post_options(idempotency_key))
    return AccountLink(url=link.url, expires_at=link.expires_at)


def account_retrieve(*, account_id: str) -> Account:
    """Return a connected account as Stripe sees it now."""
    with gateway_errors_translated():
        return account_from(_client().v1.accounts.retrieve(account_id))


# -- payments --------------------------------------------------------------------------


def customer_create_with_payment_method(
    *,
    idempotency_key: str,
    payment_method: str,
    email: str | None = None,
    name: str | None = None,
    metadata: Mapping[str, str] | None = None,
) -> Customer:
    """Create a customer with a card on file (also its default) for off-session charges.

    Three POSTs, each keyed from the caller's key, so a retry of the whole call finds
    each step already done instead of minting a second customer or card.
    """
    client = _client()
    customer_params: dict[str, Any] = {"metadata": _metadata(metadata)}
    if email:
        customer_params["email"] = email
    if name:
        customer_params["name"] = name
    with gateway_errors_translated():
        customer = client.v1.customers.create(
            customer_params, _post_options(f"{idempotency_key}:customer")
        )
        method = client.v1.payment_methods.attach(
            payment_method,
            {"customer": customer.id},
            _post_options(f"{idempotency_key}:attach"),
        )
        client.v1.customers.update(
            customer.id,
            {"invoice_settings": {"default_payment_method": method.id}},
            _post_options(f"{idempotency_key}:default"),
        )
    return Customer(id=customer.id, payment_method_id=method.id)


def payment_intent_confirm_off_session(
    *,
    idempotency_key: str,
    customer_id: str,
    payment_method_id: str,
    amount: int,
    currency: str,
    metadata: Mapping[str, str] | None = None,
    description: str | None = None,
) -> PaymentIntent:
    """Charge a customer's card on file now; raise `CardDeclined` if the bank says no."""
    assert amount > 0, amount
    params: dict[str, Any] = {
        "amount": amount,
        "currency": currency,
        "customer": customer_id,
        "payment_method": payment_method_id,
        "confirm": True,
        "off_session": True,
        "metadata": _metadata(metadata),
    }
    if description:
        params["description"] = description
    with gateway_errors_translated():
        intent = _client().v1.payment_intents.create(params, _post_options(idempotency_key))
    return payment_intent_from(intent)


def payment_intent_retrieve(*, payment_intent_id: str) -> PaymentIntent:
    """Return a PaymentIntent as Stripe sees it now."""
    with gateway_errors_translated():
        return payment_intent_from(_client().v1.payment_intents.retrieve(payment_intent_id))


# -- transfers -------------------------------------------------------------------------


def transfer_create(
    *,
    idempotency_key: str,
    destination: str,
    amount: int,
    currency: str,
    transfer_group: str | None = None,
    metadata: Mapping[str, str] | None = None,
    description: str | None = None,
    network_retries: int | None = None,
) -> Transfer:
    """Move `amount` (minor unit) from the platform balance to a connected account.

    `network_retries` overrides the SDK's own retries: the payout dispatcher passes 0,
    because it retries through its shared rate limit, with backoff and jitter.
    """
    assert amount > 0, amount
    params: dict[str, Any] = {
        "amount": amount,
        "currency": currency,
        "destination": destination,
        "metadata": _metadata(metadata),
    }
    if transfer_group:
        params["transfer_group"] = transfer_group
    if description:
        params["description"] = description
    options = _post_options(idempotency_key)
    if network_retries is not None:
        options["max_network_retries"] = network_retries
    with gateway_errors_translated():
        return transfer_from(_client().v1.transfers.create(params, options))


def transfer_retrieve(*, transfer_id: str) -> Transfer:
    """Return a transfer as Stripe sees it now (reversals included)."""
    with gateway_errors_translated():
        return transfer_from(_client().v1.transfers.retrieve(transfer_id))


def transfers_list(
    *,
    transfer_group: str | None = None,
    destination: str | None = None,
    limit: int = LIST_LIMIT_MAX,
    starting_after: str | None = None,
    created: CreatedRange | None = None,
    network_retries: int | None = None,
) -> Page[Transfer]:
    """Return one page of transfers, newest first, optionally of one group or account."""
    params = _list_params(
        limit, starting_after, transfer_group=transfer_group, destination=destination
    )
    _created_filter(params, created)
    with gateway_errors_translated():
        page = _client().v1.transfers.list(params, _read_options(network_retries))  # type: ignore[arg-type]
    return Page(items=tuple(transfer_from(item) for item in page.data), has_more=page.has_more)


def transfer_reverse(
    *,
    idempotency_key: str,
    transfer_id: str,
    amount: int | None = None,
    metadata: Mapping[str, str] | None = None,
) -> TransferReversal:
    """Take back all (default) or `amount` of a transfer into the platform balance."""
    params: dict[str, Any] = {"metadata": _metadata(metadata)}
    if amount is not None:
        assert amount > 0, amount
        params["amount"] = amount
    with gateway_errors_translated():
        reversal = _client().v1.transfers.reversals.create(
            transfer_id, params, _post_options(idempotency_key)
        )
    return TransferReversal(
        id=reversal.id,
        transfer_id=transfer_id,
        amount=reversal.amount,
        currency=reversal.currency,
        created=reversal.created,
    )


# -- balance ---------------------------------------------------------------------------


def topup_create(
    *, idempotency_key: str, amount: int, currency: str, description: str | None = None
) -> Topup:
    """Add funds to the platform balance (test mode and the sandbox: available at once)."""
    assert amount > 0, amount
    params: dict[str, Any] = {"amount": amount, "currency": currency}
    if description:
        params["description"] = description
    with gateway_errors_translated():
        topup = _client().v1.topups.create(params, _post_options(idempotency_key))
    return Topup(id=topup.id, amount=topup.amount, currency=topup.currency, status=topup.status)


def balance_retrieve() -> Balance:
    """Return the platform's balance per currency."""
    with gateway_errors_translated():
        balance = _client().v1.balance.retrieve()
    return Balance(
        available={entry.currency: entry.amount for entry in balance.available},
        pending={entry.currency: entry.amount for entry in balance.pending},
    )


def balance_transactions_list(
    *,
    limit: int = LIST_LIMIT_MAX,
    starting_after: str | None = None,
    transaction_type: str | None = None,
    created: CreatedRange | None = None,
) -> Page[BalanceTransaction]:
    """Return one page of the platform's balance transactions, newest first."""
    params = _list_params(limit, starting_after, type=transaction_type)
    _created_filter(params, created)
    with gateway_errors_translated():
        page = _client().v1.balance_transactions.list(params)  # type: ignore[arg-type]
    return Page(
        items=tuple(balance_transaction_from(item) for item in page.data), has_more=page.has_more
    )


def charges_list(
    *,
    limit: int = LIST_LIMIT_MAX,
    starting_after: str | None = None,
    created: CreatedRange | None = None,
) -> Page[Charge]:
    """Return one page of the platform's charges, newest first."""
    params = _list_params(limit, starting_after)
    _created_filter(params, created)
    with gateway_errors_translated():
        page = _client().v1.charges.list(params)  # type: ignore[arg-type]
    return Page(items=tuple(charge_from(item) for item in page.data), has_more=page.has_more)
