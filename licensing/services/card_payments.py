"""How licensing takes a card payment without importing `payouts`.

Dependencies point one way (`payouts -> licensing -> ledger`), yet a purchase must
charge a card, and only `payouts.stripe` may talk to Stripe. This module is
the port: licensing states what it needs (`CardPayments`) and the setting
`ACCORD_CARD_PAYMENTS` names the adapter that provides it (`payouts.stripe.card_payments`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class PaymentDeclined(Exception):
    """The bank said no; the payment will not succeed if retried as it is."""

    def __init__(self, code: str, message: str, payment_intent_id: str | None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.payment_intent_id = payment_intent_id


class PaymentProviderUnavailable(Exception):
    """The outcome is unknown (timeout, 5xx): retry later with the same key."""


@dataclass(frozen=True)
class CardOnFile:
    customer_id: str
    payment_method_id: str


@dataclass(frozen=True)
class CardCharge:
    payment_intent_id: str
    amount: int
    currency: str


class CardPayments(Protocol):
    def card_on_file_create(
        self, *, idempotency_key: str, payment_method: str, name: str, email: str | None
    ) -> CardOnFile: ...

    def card_charge(
        self,
        *,
        idempotency_key: str,
        card: CardOnFile,
        amount: int,
        currency: str,
        metadata: Mapping[str, str],
        description: str,
    ) -> CardCharge: ...


def card_payments() -> CardPayments:
    return import_string(settings.ACCORD_CARD_PAYMENTS)()
