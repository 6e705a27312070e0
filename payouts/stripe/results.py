"""The Stripe gateway's results: plain frozen dataclasses, built from the SDK's objects.

Nothing outside `payouts.stripe` sees an SDK object; `*_from` turn one into its
dataclass (an expanded id field is read whether Stripe sent the id or the object).
"""

from __future__ import annotations

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
class VerifiedEvent:
    """A webhook event whose signature checked out."""

    id: str
    type: str
    created: int
    account: str | None
    object_id: str | None
    payload: dict[str, Any]


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
