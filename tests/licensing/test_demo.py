"""The demo catalogue: what `load_demo_data` promises, and that running it twice is harmless."""

from __future__ import annotations

import pytest
from django.db.models import Count

from licensing.demo import DEMO_CREATORS, WORKS_PER_CREATOR, demo_catalogue_load
from licensing.models import Collection, Creator, Offer, OfferVersion, RightsShare, Work
from licensing.selectors.api_keys import api_key_resolve

pytestmark = pytest.mark.django_db


def _census() -> dict[str, int]:
    return {
        "creators": Creator.objects.count(),
        "works": Work.objects.count(),
        "shares": RightsShare.objects.count(),
        "collections": Collection.objects.count(),
        "offers": Offer.objects.count(),
        "versions": OfferVersion.objects.count(),
    }


def test_the_demo_catalogue_has_everything_it_promises_and_loads_once() -> None:
    logins = demo_catalogue_load()

    census = _census()
    assert census["creators"] == len(DEMO_CREATORS) >= 3
    assert census["works"] == len(DEMO_CREATORS) * WORKS_PER_CREATOR >= 200
    assert set(Work.objects.values_list("kind", flat=True)) == {
        "text", "image", "audio", "video", "code", "dataset"
    }  # fmt: skip
    co_owned = Work.objects.annotate(owners=Count("shares")).filter(owners__gt=1)
    assert co_owned.count() >= 10
    assert Work.objects.filter(reserved=True).count() == 1
    live = OfferVersion.objects.filter(offer__status=Offer.Status.ACTIVE)
    assert set(live.values_list("pricing", flat=True)) == {"flat", "per_unit", "pool"}
    assert OfferVersion.objects.filter(version=2).exists()
    assert {login.role for login in logins} == {"creator", "finance"}
    assert all(login.password and login.api_key for login in logins)

    again = demo_catalogue_load()

    assert _census() == census
    for first, second in zip(logins, again, strict=True):
        assert first.username == second.username
        assert api_key_resolve(first.api_key) is None  # the previous demo key is revoked
        assert api_key_resolve(second.api_key) is not None
