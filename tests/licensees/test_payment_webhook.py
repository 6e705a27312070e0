"""`payment_intent.succeeded` completes a purchase whose request died after Stripe charged."""

from __future__ import annotations

import pytest

from licensing.models import License, Purchase
from licensing.services.purchases import license_purchase
from payouts.models import StripeEvent
from payouts.stripe import gateway
from payouts.stripe.handlers import payment_intent_succeeded_handle
from tests.licensees.conftest import Catalogue

pytestmark = pytest.mark.django_db


def event_for(intent_id: str) -> StripeEvent:
    return StripeEvent.objects.create(
        stripe_id=f"evt_for_{intent_id}",
        type="payment_intent.succeeded",
        created="2026-11-25T00:00:00Z",
        object_id=intent_id,
        payload={"data": {"object": {"id": intent_id}}},
    )


def test_the_webhook_completes_a_pending_purchase_once(
    catalogue: Catalogue, card_org, monkeypatch: pytest.MonkeyPatch
) -> None:
    import licensing.services.purchases as purchases

    charged: list[str] = []

    def die_after_charge(*, purchase: Purchase, payment_intent_id: str, **_: object) -> None:
        charged.append(payment_intent_id)
        raise SystemExit("killed after Stripe answered")

    monkeypatch.setattr(purchases, "purchase_complete", die_after_charge)
    with pytest.raises(SystemExit):
        license_purchase(
            organization=card_org, offer_id=catalogue.flat_offer.public_id, work_ids=None
        )
    monkeypatch.undo()
    (intent_id,) = charged
    assert not License.objects.exists()

    payment_intent_succeeded_handle(event_for(intent_id))

    purchase = Purchase.objects.get()
    assert purchase.status == Purchase.Status.SUCCEEDED
    assert purchase.payment_intent_id == intent_id
    assert License.objects.count() == 1
    assert gateway.balance_retrieve().available["eur"] == 1_000


def test_the_webhook_leaves_completed_purchases_alone(catalogue: Catalogue, card_org) -> None:
    granted = license_purchase(
        organization=card_org, offer_id=catalogue.flat_offer.public_id, work_ids=None
    )
    purchase = Purchase.objects.get()

    payment_intent_succeeded_handle(event_for(purchase.payment_intent_id))

    assert License.objects.get() == granted
