"""The one module in Accord that talks to Stripe.

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

import contextlib
import enum
import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import requests
import stripe
from django.conf import settings

from config.errors import DomainError

STRIPE_API_ADDRESS = "https://api.stripe.com"
NETWORK_RETRIES_MAX = 2
REQUEST_TIMEOUT_SECONDS = 30
IDEMPOTENCY_KEY_CHARS_MAX = 255
LIST_LIMIT_MAX = 100
# How old a webhook's signature may be, as Stripe's own libraries default it.
WEBHOOK_TOLERANCE_SECONDS = 300


# -- errors ----------------------------------------------------------------------------


class GatewayErrorCode(enum.StrEnum):
    CARD_DECLINED = "card_declined"
    INSUFFICIENT_BALANCE = "insufficient_balance"
    ACCOUNT_NOT_READY = "account_not_ready"
    NOT_FOUND = "stripe_object_not_found"
    UNAVAILABLE = "stripe_unavailable"
    IDEMPOTENCY_MISMATCH = "idempotency_key_mismatch"
    INVALID_REQUEST = "stripe_invalid_request"
    AUTHENTICATION = "stripe_authentication_failed"
    SIGNATURE_INVALID = "signature_invalid"


class GatewayError(DomainError):
    """Stripe refused or failed a request; `stripe_code` is Stripe's own code, if any."""

    http_status = 502
    retryable = False

    def __init__(
        self,
        code: GatewayErrorCode,
        message: str,
        *,
        stripe_code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(code, message, param=param)
        self.stripe_code = stripe_code


class CardDeclined(GatewayError):
    """The card was declined; the PaymentIntent stays `requires_payment_method`."""

    http_status = 402

    def __init__(self, message: str, *, decline_code: str | None, payment_intent_id: str | None):
        super().__init__(GatewayErrorCode.CARD_DECLINED, message, stripe_code="card_declined")
        self.decline_code = decline_code
        self.payment_intent_id = payment_intent_id


class InsufficientBalance(GatewayError):
    """The platform's available balance does not cover the transfer (top up, then retry)."""

    http_status = 409


class AccountNotReady(GatewayError):
    """The connected account has not finished onboarding, so it cannot receive transfers."""

    http_status = 409


class GatewayUnavailable(GatewayError):
    """Stripe could not be reached or answered 5xx/429 after the SDK's retries.

    The request may or may not have been done: retry later with the same key.
    """

    http_status = 503
    retryable = True


class WebhookSignatureInvalid(GatewayError):
    """A webhook's `Stripe-Signature` is missing, forged or too old."""

    http_status = 400


def _stripe_code(error: stripe.StripeError) -> str | None:
    return error.code or (error.error.code if error.error is not None else None)


def _translate(error: stripe.StripeError) -> GatewayError:
    """Map an SDK error to the gateway's own exception."""
    code = _stripe_code(error)
    message = error.user_message or str(error)
    param = getattr(error, "param", None)  # only InvalidRequestError and CardError have one
    if isinstance(error, stripe.CardError):
        intent = error.error.payment_intent if error.error is not None else None
        return CardDeclined(
            message,
            decline_code=error.error.decline_code if error.error is not None else None,
            payment_intent_id=intent.id if intent is not None else None,
        )
    if (
        isinstance(error, (stripe.APIConnectionError, stripe.RateLimitError))
        or (isinstance(error, stripe.APIError) and (error.http_status or 500) >= 409)
        # The key's first request still runs (a concurrent dispatch): its outcome is
        # unknown yet, so the same key must be tried again later.
        or code in {"idempotency_key_in_use", "lock_timeout", "rate_limit"}
    ):
        return GatewayUnavailable(GatewayErrorCode.UNAVAILABLE, message, stripe_code=code)
    if isinstance(error, stripe.IdempotencyError):
        return GatewayError(GatewayErrorCode.IDEMPOTENCY_MISMATCH, message, stripe_code=code)
    if isinstance(error, (stripe.AuthenticationError, stripe.PermissionError)):
        return GatewayError(GatewayErrorCode.AUTHENTICATION, message, stripe_code=code)
    if code == "balance_insufficient":
        return InsufficientBalance(GatewayErrorCode.INSUFFICIENT_BALANCE, message, stripe_code=code)
    if code == "insufficient_capabilities_for_transfer":
        return AccountNotReady(GatewayErrorCode.ACCOUNT_NOT_READY, message, stripe_code=code)
    if code == "resource_missing":
        return GatewayError(GatewayErrorCode.NOT_FOUND, message, stripe_code=code, param=param)
    return GatewayError(GatewayErrorCode.INVALID_REQUEST, message, stripe_code=code, param=param)


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except stripe.SignatureVerificationError:
        raise  # handled by webhook_event_verify, never escapes it
    except stripe.StripeError as error:
        raise _translate(error) from error


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


def _metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    return dict(metadata or {})


# -- plain results ---------------------------------------------------------------------

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a Stripe list: pass the last item's id as `starting_after` for more."""

    items: tuple[T, ...]
    has_more: bool


@dataclass(frozen=True)
class Account:
    id: str
    country: str
    default_currency: str
    details_submitted: bool
    charges_enabled: bool
    payouts_enabled: bool
    transfers_active: bool
    metadata: dict[str, str]

    @property
    def ready_for_transfers(self) -> bool:
        """Say whether a transfer to this account would be accepted."""
        return self.transfers_active


@dataclass(frozen=True)
class AccountLink:
    url: str
    expires_at: int


@dataclass(frozen=True)
class Customer:
    id: str
    payment_method_id: str


@dataclass(frozen=True)
class PaymentIntent:
    id: str
    status: str
    amount: int
    amount_received: int
    currency: str
    customer_id: str | None
    latest_charge_id: str | None
    metadata: dict[str, str]
    created: int


@dataclass(frozen=True)
class Transfer:
    id: str
    amount: int
    amount_reversed: int
    currency: str
    destination: str
    transfer_group: str | None
    reversed: bool
    balance_transaction_id: str | None
    metadata: dict[str, str]
    created: int


@dataclass(frozen=True)
class TransferReversal:
    id: str
    transfer_id: str
    amount: int
    currency: str
    created: int


@dataclass(frozen=True)
class Topup:
    id: str
    amount: int
    currency: str
    status: str


@dataclass(frozen=True)
class Balance:
    """Amounts per currency, in the minor unit."""

    available: dict[str, int]
    pending: dict[str, int]


@dataclass(frozen=True)
class BalanceTransaction:
    id: str
    type: str
    amount: int
    fee: int
    net: int
    currency: str
    source: str | None
    status: str
    created: int


@dataclass(frozen=True)
class VerifiedEvent:
    """A webhook event whose signature checked out."""

    id: str
    type: str
    created: int
    account: str | None
    object_id: str | None
    payload: dict[str, Any]


def _plain(obj: stripe.StripeObject) -> dict[str, Any]:
    """Return the SDK object as nested plain dicts (SDK objects are not mappings)."""
    return obj.to_dict()


def _id_of(value: Any) -> str | None:
    """Return an id field's value whether Stripe sent the id or the expanded object."""
    if isinstance(value, dict):
        return value.get("id")
    return value


def _account(obj: stripe.Account) -> Account:
    data = _plain(obj)
    return Account(
        id=data["id"],
        country=data.get("country") or "",
        default_currency=data.get("default_currency") or "",
        details_submitted=bool(data.get("details_submitted")),
        charges_enabled=bool(data.get("charges_enabled")),
        payouts_enabled=bool(data.get("payouts_enabled")),
        transfers_active=(data.get("capabilities") or {}).get("transfers") == "active",
        metadata=dict(data.get("metadata") or {}),
    )


def _payment_intent(obj: stripe.PaymentIntent) -> PaymentIntent:
    data = _plain(obj)
    return PaymentIntent(
        id=data["id"],
        status=data["status"],
        amount=data["amount"],
        amount_received=data.get("amount_received") or 0,
        currency=data["currency"],
        customer_id=_id_of(data.get("customer")),
        latest_charge_id=_id_of(data.get("latest_charge")),
        metadata=dict(data.get("metadata") or {}),
        created=data["created"],
    )


def _transfer(obj: stripe.Transfer) -> Transfer:
    data = _plain(obj)
    destination = _id_of(data.get("destination"))
    assert destination is not None, "a transfer always has a destination"
    return Transfer(
        id=data["id"],
        amount=data["amount"],
        amount_reversed=data.get("amount_reversed") or 0,
        currency=data["currency"],
        destination=destination,
        transfer_group=data.get("transfer_group"),
        reversed=bool(data.get("reversed")),
        balance_transaction_id=_id_of(data.get("balance_transaction")),
        metadata=dict(data.get("metadata") or {}),
        created=data["created"],
    )


def _balance_transaction(obj: stripe.BalanceTransaction) -> BalanceTransaction:
    data = _plain(obj)
    return BalanceTransaction(
        id=data["id"],
        type=data["type"],
        amount=data["amount"],
        fee=data.get("fee") or 0,
        net=data["net"],
        currency=data["currency"],
        source=_id_of(data.get("source")),
        status=data["status"],
        created=data["created"],
    )


@dataclass(frozen=True)
class CreatedRange:
    """Stripe's `created[gte]`/`created[lt]` filter, in Unix seconds (a day, for instance)."""

    gte: int
    lt: int


@dataclass(frozen=True)
class Charge:
    id: str
    amount: int
    amount_refunded: int
    currency: str
    status: str
    payment_intent_id: str | None
    created: int


def _charge(obj: stripe.Charge) -> Charge:
    data = _plain(obj)
    return Charge(
        id=data["id"],
        amount=data["amount"],
        amount_refunded=data.get("amount_refunded") or 0,
        currency=data["currency"],
        status=data["status"],
        payment_intent_id=_id_of(data.get("payment_intent")),
        created=data["created"],
    )


def _created_filter(params: dict[str, Any], created: CreatedRange | None) -> None:
    if created is not None:
        assert created.gte < created.lt, created
        params["created"] = {"gte": created.gte, "lt": created.lt}


def _read_options(network_retries: int | None) -> stripe.RequestOptions:
    return {} if network_retries is None else {"max_network_retries": network_retries}


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
    with _translated():
        return _account(_client().v1.accounts.create(params, _post_options(idempotency_key)))


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
    with _translated():
        link = _client().v1.account_links.create(params, _post_options(idempotency_key))
    return AccountLink(url=link.url, expires_at=link.expires_at)


def account_retrieve(*, account_id: str) -> Account:
    """Return a connected account as Stripe sees it now."""
    with _translated():
        return _account(_client().v1.accounts.retrieve(account_id))


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
    with _translated():
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
    with _translated():
        intent = _client().v1.payment_intents.create(params, _post_options(idempotency_key))
    return _payment_intent(intent)


def payment_intent_retrieve(*, payment_intent_id: str) -> PaymentIntent:
    """Return a PaymentIntent as Stripe sees it now."""
    with _translated():
        return _payment_intent(_client().v1.payment_intents.retrieve(payment_intent_id))


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
    with _translated():
        return _transfer(_client().v1.transfers.create(params, options))


def transfer_retrieve(*, transfer_id: str) -> Transfer:
    """Return a transfer as Stripe sees it now (reversals included)."""
    with _translated():
        return _transfer(_client().v1.transfers.retrieve(transfer_id))


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
    with _translated():
        page = _client().v1.transfers.list(params, _read_options(network_retries))  # type: ignore[arg-type]
    return Page(items=tuple(_transfer(item) for item in page.data), has_more=page.has_more)


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
    with _translated():
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


def charges_list(
    *,
    limit: int = LIST_LIMIT_MAX,
    starting_after: str | None = None,
    created: CreatedRange | None = None,
) -> Page[Charge]:
    """Return one page of the platform's charges, newest first."""
    params = _list_params(limit, starting_after)
    _created_filter(params, created)
    with _translated():
        page = _client().v1.charges.list(params)  # type: ignore[arg-type]
    return Page(items=tuple(_charge(item) for item in page.data), has_more=page.has_more)


# -- balance ---------------------------------------------------------------------------


def topup_create(
    *, idempotency_key: str, amount: int, currency: str, description: str | None = None
) -> Topup:
    """Add funds to the platform balance (test mode and the sandbox: available at once)."""
    assert amount > 0, amount
    params: dict[str, Any] = {"amount": amount, "currency": currency}
    if description:
        params["description"] = description
    with _translated():
        topup = _client().v1.topups.create(params, _post_options(idempotency_key))
    return Topup(id=topup.id, amount=topup.amount, currency=topup.currency, status=topup.status)


def balance_retrieve() -> Balance:
    """Return the platform's balance per currency."""
    with _translated():
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
    with _translated():
        page = _client().v1.balance_transactions.list(params)  # type: ignore[arg-type]
    return Page(
        items=tuple(_balance_transaction(item) for item in page.data), has_more=page.has_more
    )


# -- webhooks --------------------------------------------------------------------------


def webhook_event_verify(*, payload: bytes, signature: str | None) -> VerifiedEvent:
    """Check a webhook's signature with STRIPE_WEBHOOK_SECRET and return its event.

    Raises `WebhookSignatureInvalid` when the header is missing, does not match the
    payload (forged or altered) or is older than `WEBHOOK_TOLERANCE_SECONDS` (replayed).
    """
    if not signature:
        raise WebhookSignatureInvalid(
            GatewayErrorCode.SIGNATURE_INVALID, "The Stripe-Signature header is missing."
        )
    try:
        event = stripe.Webhook.construct_event(
            payload,
            signature,
            settings.STRIPE_WEBHOOK_SECRET,
            tolerance=WEBHOOK_TOLERANCE_SECONDS,
        )
    except stripe.SignatureVerificationError as error:
        raise WebhookSignatureInvalid(
            GatewayErrorCode.SIGNATURE_INVALID, "The Stripe-Signature header does not verify."
        ) from error
    except ValueError as error:  # signed, but not a JSON event
        raise WebhookSignatureInvalid(
            GatewayErrorCode.SIGNATURE_INVALID, "The webhook payload is not a Stripe event."
        ) from error
    body = json.loads(payload)
    data_object = (body.get("data") or {}).get("object") or {}
    return VerifiedEvent(
        id=event.id,
        type=event.type,
        created=event.created,
        account=body.get("account"),
        object_id=data_object.get("id"),
        payload=body,
    )
