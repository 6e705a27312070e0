"""Prices a card cannot pay are refused when the offer is saved (issue 13, finding 14).

Stripe charges at least a per-currency minimum (0.50 EUR, 50 JPY, ...) and at most
eight digits of minor units; a flat or pool price outside that (other than 0, free)
would be accepted and then end every card purchase in `402 ... card was declined`.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from licensing.currencies import CARD_CHARGE_MAXIMUM, CARD_CHARGE_MINIMUM, SUPPORTED_CURRENCIES
from licensing.errors import LicensingError
from licensing.models import Offer
from licensing.services.collections import collection_create
from licensing.services.offers import OfferTerms, offer_create, offer_update
from licensing.services.organizations import organization_create
from licensing.services.purchases import license_purchase
from tests.licensing.test_admin_portal import _offer_form

pytestmark = pytest.mark.django_db


def _flat(amount: int, currency: str = "eur", pricing: str = "flat") -> OfferTerms:
    return OfferTerms(pricing=pricing, currency=currency, amount=amount, term_days=30)


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        (10, "eur"),
        (49, "eur"),
        (29, "gbp"),
        (49, "jpy"),
        (299, "sek"),
        (10**8, "jpy"),
        (10**8, "eur"),
    ],
)
def test_a_price_a_card_cannot_pay_is_refused(alice, make_work, amount, currency) -> None:
    with pytest.raises(LicensingError) as raised:
        offer_create(
            creator=alice, work=make_work(alice), use="ai-train", terms=_flat(amount, currency)
        )

    assert (raised.value.code, raised.value.param) == ("offer_terms_invalid", "amount")
    assert "Stripe" in raised.value.message
    assert not Offer.objects.exists()


@pytest.mark.parametrize(
    ("amount", "currency"), [(0, "eur"), (50, "eur"), (30, "gbp"), (50, "jpy"), (99_999_999, "jpy")]
)
def test_free_and_chargeable_prices_are_accepted(alice, make_work, amount, currency) -> None:
    offer = offer_create(
        creator=alice, work=make_work(alice), use="ai-train", terms=_flat(amount, currency)
    )

    assert offer.current_version.amount == amount


def test_a_pool_price_is_checked_too_and_an_edit_as_well(alice, make_work) -> None:
    box = collection_create(creator=alice, title="Box", works=[make_work(alice)])
    with pytest.raises(LicensingError):
        offer_create(creator=alice, collection=box, use="ai-train", terms=_flat(5, pricing="pool"))
    offer = offer_create(creator=alice, work=make_work(alice), use="ai-train", terms=_flat(500))

    with pytest.raises(LicensingError) as raised:
        offer_update(offer=offer, terms={"amount": 10})

    assert raised.value.param == "amount"
    offer.refresh_from_db()
    assert offer.current_version.amount == 500


def test_per_unit_prices_are_billed_later_and_not_limited(alice, make_work) -> None:
    offer = offer_create(
        creator=alice,
        work=make_work(alice),
        use="ai-input",
        terms=OfferTerms(
            pricing="per_unit", currency="eur", unit="token", unit_amount_decimal="0.001"
        ),
    )

    assert offer.current_version.unit_amount_decimal is not None


def test_the_api_answers_422_with_the_field(alice, make_work, client_for) -> None:
    response = client_for(alice).post(
        "/api/v1/me/offers",
        {
            "work": make_work(alice).public_id,
            "use": "ai-train",
            "pricing": "flat",
            "currency": "eur",
            "amount": 10,
            "term_days": 30,
        },
        format="json",
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "offer_terms_invalid"
    assert response.json()["error"]["param"] == "amount"


def test_the_portal_shows_it_on_the_amount_field(alice, make_work) -> None:
    portal = Client()
    portal.force_login(alice.user)

    response = portal.post(
        reverse("admin:licensing_offer_add"), _offer_form(work=make_work(alice).pk, amount="0.10")
    )

    assert response.status_code == 200
    assert "Stripe" in str(response.context["adminform"].form.errors["amount"])
    assert not Offer.objects.exists()


def test_every_currency_has_a_minimum() -> None:
    assert set(CARD_CHARGE_MINIMUM) == set(SUPPORTED_CURRENCIES)
    assert CARD_CHARGE_MAXIMUM == 99_999_999


def test_many_works_a_card_cannot_pay_at_once_are_refused_at_purchase(
    alice, make_work, stripe_sandbox_settings: Any
) -> None:
    works = [make_work(alice), make_work(alice)]
    box = collection_create(creator=alice, title="Dear", works=works)
    offer = offer_create(
        creator=alice, collection=box, use="ai-train", terms=_flat(60_000_000), status="active"
    )
    card = organization_create(slug="big-card", billing="card", payment_method="pm_card_visa")
    invoiced = organization_create(slug="big-invoice", billing="invoice")
    ids = [work.public_id for work in works]

    with pytest.raises(LicensingError) as raised:
        license_purchase(organization=card, offer_id=offer.public_id, work_ids=ids)

    assert (raised.value.code, raised.value.param) == ("parameter_invalid", "works")
    assert not card.purchases.exists()
    granted = license_purchase(organization=invoiced, offer_id=offer.public_id, work_ids=ids)
    assert granted.amount == 120_000_000  # an invoice has no card limit
