"""licensing.selectors.purchases: the offer for sale, read by hand, reads what the ORM reads."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Model

from licensing.models import Offer
from licensing.selectors.purchases import _offer_for_sale
from tests.licensing.licensee_fixtures import Catalogue

pytestmark = pytest.mark.django_db


def _values(instance: Model | None) -> dict[str, Any] | None:
    if instance is None:
        return None
    return {
        field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields
    }


def _orm_reading(offer_id: str) -> tuple[Offer, dict[str, int]]:
    offer = Offer.objects.select_related("current_version", "work", "collection").get(
        public_id=offer_id
    )
    shares = offer.work.shares.select_related("creator") if offer.work else []
    return offer, {share.creator.public_id: share.basis_points for share in shares}


@pytest.mark.parametrize("which", ["flat_offer", "collection_flat_offer", "pool_offer"])
def test_the_offer_for_sale_is_the_orms_field_by_field_and_needs_no_further_read(
    catalogue: Catalogue,
    which: str,
    django_assert_num_queries,
) -> None:
    offer_id = getattr(catalogue, which).public_id
    expected, expected_owners = _orm_reading(offer_id)

    with django_assert_num_queries(1):
        offer, owners = _offer_for_sale(offer_id)
        # Set as select_related sets them: reading them runs nothing.
        version, work, collection = offer.current_version, offer.work, offer.collection
        assert version.offer is offer

    assert owners == expected_owners
    assert _values(offer) == _values(expected)
    assert _values(version) == _values(expected.current_version)
    assert _values(work) == _values(expected.work)
    assert _values(collection) == _values(expected.collection)
    assert offer._state.adding is False
