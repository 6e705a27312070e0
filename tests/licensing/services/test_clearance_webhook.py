"""A clearance whose request died after the card charge is completed by Stripe's webhook, once."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.models import Entry, Transaction
from licensing.certificates.keys import public_jwks
from licensing.certificates.signing import certificate_verify
from licensing.models import Clearance, License, LicenseeOrganization, Purchase
from licensing.services import clearance_purchases
from licensing.services.clearance_purchases import clearance_purchase
from licensing.services.clearances import clearance_create
from payouts.models import StripeEvent
from payouts.stripe import gateway
from payouts.stripe.handlers import payment_intent_succeeded_handle
from tests.licensing.clearance_catalogue import (
    USE,
    ClearanceCatalogue,
    clearance_catalogue,
    mixed_manifest,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(db: Any) -> ClearanceCatalogue:
    return clearance_catalogue()


def _event(intent_id: str, number: int = 1) -> StripeEvent:
    return StripeEvent.objects.create(
        stripe_id=f"evt_{number}_{intent_id}",
        type="payment_intent.succeeded",
        created="2026-12-03T00:00:00Z",
        object_id=intent_id,
        payload={"data": {"object": {"id": intent_id}}},
    )


def _killed_after_charge(
    organization: LicenseeOrganization, clearance: Clearance, monkeypatch: pytest.MonkeyPatch
) -> str:
    """Purchase the clearance, dying after Stripe charged and before anything was granted."""
    charged: list[str] = []

    def die(*, clearance: Clearance, payment_intent_id: str, **_: object) -> None:
        charged.append(payment_intent_id)
        raise SystemExit("killed after Stripe answered")

    monkeypatch.setattr(clearance_purchases, "clearance_purchase_complete", die)
    with pytest.raises(SystemExit):
        clearance_purchase(organization=organization, clearance_id=clearance.public_id)
    monkeypatch.undo()
    (intent_id,) = charged
    return intent_id


def _books() -> tuple[int, int, int]:
    return License.objects.count(), Purchase.objects.count(), Transaction.objects.count()


def test_the_webhook_completes_a_clearance_charged_by_a_dead_request_once(
    catalogue: ClearanceCatalogue, card_org: LicenseeOrganization, monkeypatch: pytest.MonkeyPatch
) -> None:
    clearance = clearance_create(organization=card_org, use=USE, items=mixed_manifest(catalogue))
    intent_id = _killed_after_charge(card_org, clearance, monkeypatch)
    clearance.refresh_from_db()
    assert clearance.status == Clearance.Status.PURCHASING
    assert _books() == (0, 0, 0)
    assert gateway.payment_intent_retrieve(payment_intent_id=intent_id).status == "succeeded"

    payment_intent_succeeded_handle(_event(intent_id))

    clearance.refresh_from_db()
    assert clearance.status == Clearance.Status.PURCHASED
    assert clearance.payment_intent_id == intent_id
    licenses = License.objects.filter(organization=card_org)
    assert licenses.count() == 5
    assert sum(licenses.values_list("amount", flat=True)) == 5_100
    assert set(Purchase.objects.values_list("payment_intent_id", flat=True)) == {intent_id}
    debits = Entry.objects.filter(account__code="platform:stripe_balance:eur")
    assert sum(entry.amount_micros for entry in debits) == 51_000_000
    assert certificate_verify(clearance.certificate, jwks=public_jwks()).valid
    books = _books()

    payment_intent_succeeded_handle(_event(intent_id, number=2))  # delivered again
    payment_intent_succeeded_handle(_event(intent_id, number=3))

    assert _books() == books
    again = clearance_purchase(organization=card_org, clearance_id=clearance.public_id)
    assert sorted(again.licenses) == sorted(licenses.values_list("public_id", flat=True))
    assert _books() == books


def test_the_clients_retry_completes_it_and_the_late_webhook_changes_nothing(
    catalogue: ClearanceCatalogue, card_org: LicenseeOrganization, monkeypatch: pytest.MonkeyPatch
) -> None:
    clearance = clearance_create(organization=card_org, use=USE, items=mixed_manifest(catalogue))
    intent_id = _killed_after_charge(card_org, clearance, monkeypatch)

    retried = clearance_purchase(organization=card_org, clearance_id=clearance.public_id)
    books = _books()
    payment_intent_succeeded_handle(_event(intent_id))

    assert len(retried.licenses) == 5
    assert _books() == books == (5, 5, 4)  # the per-unit license posts nothing
    clearance.refresh_from_db()
    assert clearance.payment_intent_id == intent_id
    # The retry sent the same idempotency key: Stripe answered with the first charge.
    assert gateway.balance_retrieve().available["eur"] == 5_100


def test_a_payment_intent_for_another_amount_grants_nothing(
    catalogue: ClearanceCatalogue, card_org: LicenseeOrganization, monkeypatch: pytest.MonkeyPatch
) -> None:
    clearance = clearance_create(organization=card_org, use=USE, items=mixed_manifest(catalogue))
    intent_id = _killed_after_charge(card_org, clearance, monkeypatch)
    Clearance.objects.filter(pk=clearance.pk).update(quote_amount=5_101)

    payment_intent_succeeded_handle(_event(intent_id))

    assert _books() == (0, 0, 0)
    assert Clearance.objects.get(pk=clearance.pk).status == Clearance.Status.PURCHASING


def test_a_webhook_for_a_clearance_never_claimed_grants_nothing(
    catalogue: ClearanceCatalogue, card_org: LicenseeOrganization
) -> None:
    clearance = clearance_create(organization=card_org, use=USE, items=mixed_manifest(catalogue))

    bought = clearance_purchases.clearance_payment_succeeded(
        clearance_id=clearance.public_id,
        payment_intent_id="pi_not_ours",
        amount=clearance.quote_amount,
        currency=clearance.currency,
    )

    assert bought is None
    assert _books() == (0, 0, 0)
    assert Clearance.objects.get(pk=clearance.pk).status == Clearance.Status.READY
