"""Pool offers carry the `unit` their usage is declared in, default `item` (issue 14, item 6).

In the API (creator and licensee side), the portal and every version of the offer.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from licensing.errors import LicensingError
from licensing.models import Offer, OfferVersion
from licensing.services.collections import collection_create
from licensing.services.offers import (
    OfferTerms,
    offer_create,
    offer_update,
    offer_version_mark_licensed,
)
from tests.licensing.test_admin_portal import _offer_form

pytestmark = pytest.mark.django_db


def _pool_terms(**overrides: Any) -> OfferTerms:
    values = {"pricing": "pool", "currency": "eur", "amount": 50_000, "term_days": 30}
    return OfferTerms(**{**values, **overrides})


@pytest.fixture
def box(alice, make_work) -> Any:
    return collection_create(creator=alice, title="Box", works=[make_work(alice), make_work(alice)])


def test_a_pool_offer_is_declared_in_items_by_default(alice, box, client_for) -> None:
    offer = offer_create(
        creator=alice, collection=box, use="ai-train", terms=_pool_terms(), status="active"
    )

    assert offer.current_version.unit == "item"
    shown = client_for(alice).get(f"/api/v1/offers/{offer.public_id}").json()
    assert shown["unit"] == "item"


def test_a_pool_offer_takes_a_unit_through_the_api(alice, box, client_for) -> None:
    client = client_for(alice)
    created = client.post(
        "/api/v1/me/offers",
        {
            "collection": box.public_id,
            "use": "ai-input",
            "pricing": "pool",
            "currency": "eur",
            "amount": 50_000,
            "term_days": 30,
            "unit": "retrieval",
            "status": "active",
        },
        format="json",
    )

    assert created.status_code == 201, created.content
    assert created.json()["unit"] == "retrieval"
    version = Offer.objects.get(public_id=created.json()["id"]).current_version
    assert version.unit == "retrieval"


def test_a_licensed_pools_unit_change_is_the_next_version(alice, box) -> None:
    offer = offer_create(
        creator=alice, collection=box, use="ai-train", terms=_pool_terms(unit="token")
    )
    offer_version_mark_licensed(offer_version=offer.current_version)

    offer_update(offer=offer, terms={"unit": "output"})

    assert list(
        OfferVersion.objects.filter(offer=offer).order_by("version").values_list("version", "unit")
    ) == [(1, "token"), (2, "output")]


def test_an_old_pool_version_without_a_unit_is_shown_in_items(alice, box, client_for) -> None:
    offer = offer_create(
        creator=alice, collection=box, use="ai-train", terms=_pool_terms(), status="active"
    )
    OfferVersion.objects.filter(pk=offer.current_version_id).update(unit=None)

    shown = client_for(alice).get(f"/api/v1/offers/{offer.public_id}").json()

    assert shown["unit"] == "item"


def test_a_flat_offer_has_no_unit(alice, make_work) -> None:
    with pytest.raises(LicensingError) as raised:
        offer_create(
            creator=alice,
            work=make_work(alice),
            use="ai-train",
            terms=OfferTerms(
                pricing="flat", currency="eur", amount=1_000, term_days=30, unit="item"
            ),
        )

    assert (raised.value.code, raised.value.param) == ("offer_terms_invalid", "unit")


def test_the_portal_saves_a_pools_unit(alice, box) -> None:
    portal = Client()
    portal.force_login(alice.user)

    response = portal.post(
        reverse("admin:licensing_offer_add"),
        _offer_form(
            collection=box.pk, pricing="pool", amount="50000", term_days="30", unit="token"
        ),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    version = Offer.objects.get().current_version
    assert (version.pricing, version.unit) == ("pool", "token")
    listed = portal.get(reverse("admin:licensing_offer_changelist")).content.decode()
    assert "usage in tokens" in listed
