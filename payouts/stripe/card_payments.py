"""The Stripe side of `licensing.services.card_payments`: cards on file and charges at purchase."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

from licensing.services.card_payments import (
    CardCharge,
    CardOnFile,
    PaymentDeclined,
    PaymentProviderUnavailable,
)
from payouts.stripe import gateway
from payouts.stripe.errors import CardDeclined, GatewayError, GatewayUnavailable


def _declined(refused: GatewayError) -> PaymentDeclined:
    """A definite refusal: the bank's decline code when there is one, else the gateway's."""
    if isinstance(refused, CardDeclined):
        return PaymentDeclined(
            refused.decline_code or "card_declined", refused.message, refused.payment_intent_id
        )
    return PaymentDeclined(refused.stripe_code or refused.code, refused.message, None)


@contextlib.contextmanager
def _in_licensing_terms() -> Iterator[None]:
    """Say the gateway's failures in the words of `licensing.services.card_payments`."""
    try:
        yield
    except GatewayUnavailable as unavailable:
        raise PaymentProviderUnavailable(str(unavailable)) from unavailable
    except GatewayError as refused:
        raise _declined(refused) from refused


class StripeCardPayments:
    def card_on_file_create(
        self, *, idempotency_key: str, payment_method: str, name: str, email: str | None
    ) -> CardOnFile:
        with _in_licensing_terms():
            customer = gateway.customer_create_with_payment_method(
                idempotency_key=idempotency_key,
                payment_method=payment_method,
                name=name,
                email=email,
            )
        return CardOnFile(customer_id=customer.id, payment_method_id=customer.payment_method_id)

    def card_charge(
        self,
        *,
        idempotency_key: str,
        card: CardOnFile,
        amount: int,
        currency: str,
        metadata: Mapping[str, str],
        description: str,
    ) -> CardCharge:
        with _in_licensing_terms():
            intent = gateway.payment_intent_confirm_off_session(
                idempotency_key=idempotency_key,
                customer_id=card.customer_id,
                payment_method_id=card.payment_method_id,
                amount=amount,
                currency=currency,
                metadata=metadata,
                description=description,
            )
        if intent.status != "succeeded":
            raise PaymentDeclined(
                "payment_incomplete", f"The payment is {intent.status}.", intent.id
            )
        return CardCharge(
            payment_intent_id=intent.id, amount=intent.amount, currency=intent.currency
        )
