"""The Stripe gateway's results: plain frozen dataclasses, built from the SDK's objects.

Nothing outside `payouts.stripe` sees an SDK object; `*_from` turn one into its
dataclass (an expanded id field is read whether Stripe sent the id or the object).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import stripe

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


@dataclass(frozen=True)
class VerifiedEvent:
    """A webhook event whose signature checked out.

    `problem` says why a signed event cannot be used (not JSON, no id, a `created`
    that is not a number...): it is stored and acknowledged all the same, so Stripe
    stops redelivering it, and never processed. An unusable event without a usable id
    is stored under its payload's digest, so its redeliveries are duplicates.
    """

    id: str
    type: str
    created: int | None
    account: str | None
    object_id: str | None
    payload: Any
    problem: str | None = None


EVENT_ID_CHARS_MAX = 255
EVENT_TYPE_CHARS_MAX = 100


def _text_or_none(value: Any, chars_max: int) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= chars_max else None


def _event_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "the payload is not a JSON object"
    if _text_or_none(body.get("id"), EVENT_ID_CHARS_MAX) is None:
        return f"the event has no id of 1 to {EVENT_ID_CHARS_MAX} characters"
    if _text_or_none(body.get("type"), EVENT_TYPE_CHARS_MAX) is None:
        return "the event has no type"
    created = body.get("created")
    if not isinstance(created, int) or isinstance(created, bool) or created < 0:
        return "the event's created is not a Unix time"
    if not isinstance(body.get("data"), dict) or not isinstance(body["data"].get("object"), dict):
        return "the event's data.object is not an object"
    return None


UNPARSED_CHARS_MAX = 10_000


def _unparsed(payload: bytes) -> dict[str, Any]:
    """What of a payload that is not JSON is kept: its start, as text PostgreSQL can hold."""
    text = payload[:UNPARSED_CHARS_MAX].decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    return {"unparsed": text, "bytes": len(payload)}


def verified_event_from(payload: bytes) -> VerifiedEvent:
    """Read a signed payload as Stripe's event, or say why it cannot be one (never raise)."""
    try:
        body = json.loads(payload)
    except (ValueError, RecursionError):  # not JSON, or nested past the parser's limit
        body, problem = None, "the payload is not JSON Accord can read"
    else:
        problem = _event_problem(body)
    if problem is not None:
        digest = hashlib.sha256(payload).hexdigest()
        kept = body if isinstance(body, dict | list) else _unparsed(payload)
        return VerifiedEvent(
            id=f"unusable_{digest}",
            type="",
            created=None,
            account=None,
            object_id=None,
            payload=kept,
            problem=problem,
        )
    return VerifiedEvent(
        id=body["id"],
        type=body["type"],
        created=body["created"],
        account=_text_or_none(body.get("account"), EVENT_ID_CHARS_MAX),
        object_id=_text_or_none(body["data"]["object"].get("id"), EVENT_ID_CHARS_MAX),
        payload=body,
    )


def plain(obj: stripe.StripeObject) -> dict[str, Any]:
    """Return the SDK object as nested plain dicts (SDK objects are not mappings)."""
    return obj.to_dict()


def id_of(value: Any) -> str | None:
    """Return an id field's value whether Stripe sent the id or the expanded object."""
    if isinstance(value, dict):
        return value.get("id")
    return value


def account_from(obj: stripe.Account) -> Account:
    data = plain(obj)
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


def payment_intent_from(obj: stripe.PaymentIntent) -> PaymentIntent:
    data = plain(obj)
    return PaymentIntent(
        id=data["id"],
        status=data["status"],
        amount=data["amount"],
        amount_received=data.get("amount_received") or 0,
        currency=data["currency"],
        customer_id=id_of(data.get("customer")),
        latest_charge_id=id_of(data.get("latest_charge")),
        metadata=dict(data.get("metadata") or {}),
        created=data["created"],
    )


def charge_from(obj: stripe.Charge) -> Charge:
    data = plain(obj)
    return Charge(
        id=data["id"],
        amount=data["amount"],
        amount_refunded=data.get("amount_refunded") or 0,
        currency=data["currency"],
        status=data["status"],
        payment_intent_id=id_of(data.get("payment_intent")),
        created=data["created"],
    )


def transfer_from(obj: stripe.Transfer) -> Transfer:
    data = plain(obj)
    destination = id_of(data.get("destination"))
    assert destination is not None, "a transfer always has a destination"
    return Transfer(
        id=data["id"],
        amount=data["amount"],
        amount_reversed=data.get("amount_reversed") or 0,
        currency=data["currency"],
        destination=destination,
        transfer_group=data.get("transfer_group"),
        reversed=bool(data.get("reversed")),
        balance_transaction_id=id_of(data.get("balance_transaction")),
        metadata=dict(data.get("metadata") or {}),
        created=data["created"],
    )


def balance_transaction_from(obj: stripe.BalanceTransaction) -> BalanceTransaction:
    data = plain(obj)
    return BalanceTransaction(
        id=data["id"],
        type=data["type"],
        amount=data["amount"],
        fee=data.get("fee") or 0,
        net=data["net"],
        currency=data["currency"],
        source=id_of(data.get("source")),
        status=data["status"],
        created=data["created"],
    )
