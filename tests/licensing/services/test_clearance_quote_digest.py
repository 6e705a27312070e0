"""Any quoted field that changes after the quote refuses the purchase: the quote's digest."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from licensing.errors import LicensingError
from licensing.models import Clearance, ClearanceItem, License, OfferVersion, Purchase
from licensing.services.clearance_purchases import clearance_purchase
from licensing.services.clearance_quotes import quote_digest_now, quoted_version_pks
from licensing.services.clearances import clearance_create
from licensing.services.offers import offer_update
from licensing.services.organizations import organization_create
from licensing.services.purchases import license_purchase
from tests.licensing.clearance_catalogue import (
    UNKNOWN_SHA,
    USE,
    ClearanceCatalogue,
    clearance_catalogue,
    mixed_manifest,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(db: Any) -> ClearanceCatalogue:
    return clearance_catalogue()


@pytest.fixture
def clearance(catalogue: ClearanceCatalogue, invoice_org: Any) -> Clearance:
    return clearance_create(organization=invoice_org, use=USE, items=mixed_manifest(catalogue))


def _item(clearance: Clearance, identifier: str) -> Any:
    return ClearanceItem.objects.filter(clearance=clearance, identifier=identifier)


SHA_ITEM = "sha256:" + "a" * 64
ISBN_ITEM = "isbn:9780306406157"


def _someone_elses(catalogue: ClearanceCatalogue) -> License:
    other = organization_create(slug="other-lab", billing="invoice")
    return license_purchase(
        organization=other, offer_id=catalogue.held_offer.public_id, work_ids=None
    )


def _version(offer: Any) -> Any:
    return OfferVersion.objects.filter(pk=offer.current_version_id)


# Each change is one field of what was quoted, made behind the services' back (a bug, a
# correction in place) or through them where they allow it (an unlicensed version's terms).
CHANGES = {
    "item amount": lambda c, k: _item(c, SHA_ITEM).update(amount=999),
    "item offer version": lambda c, k: _item(c, ISBN_ITEM).update(
        offer_version_id=k.isbn_dear.current_version_id
    ),
    "item offer": lambda c, k: _item(c, ISBN_ITEM).update(offer_id=k.isbn_dear.pk),
    "item work": lambda c, k: _item(c, SHA_ITEM).update(work_id=k.held.pk),
    "item identifier": lambda c, k: _item(c, SHA_ITEM).update(identifier="sha256:" + "9" * 64),
    "item status": lambda c, k: _item(c, "sha256:" + UNKNOWN_SHA).update(status="reserved"),
    "item reason": lambda c, k: _item(c, "sha256:" + "b" * 64).update(reason=""),
    "item license": lambda c, k: _item(c, SHA_ITEM).update(license_id=_someone_elses(k).pk),
    "term days in place": lambda c, k: offer_update(offer=k.sha_offer, terms={"term_days": 30}),
    "attribution in place": lambda c, k: offer_update(
        offer=k.isbn_cheap, terms={"attribution_required": True}
    ),
    "commercial in place": lambda c, k: offer_update(
        offer=k.held_offer, terms={"commercial": False}
    ),
    "unit price in place": lambda c, k: offer_update(
        offer=k.per_unit_offer, terms={"unit_amount_decimal": Decimal("0.75")}
    ),
    "minimum amount": lambda c, k: _version(k.per_unit_offer).update(minimum_amount=100),
    "unit": lambda c, k: _version(k.pool_offer).update(unit="token"),
    "version number": lambda c, k: _version(k.sha_offer).update(version=7),
    "quote amount": lambda c, k: Clearance.objects.filter(pk=c.pk).update(quote_amount=4_700),
    "quote works": lambda c, k: Clearance.objects.filter(pk=c.pk).update(quote_works=9),
    "quote offers": lambda c, k: Clearance.objects.filter(pk=c.pk).update(quote_offers=9),
    "manifest": lambda c, k: Clearance.objects.filter(pk=c.pk).update(manifest_sha256="0" * 64),
    "expiry": lambda c, k: Clearance.objects.filter(pk=c.pk).update(
        expires_at=c.expires_at + timedelta(days=30)
    ),
    "use": lambda c, k: Clearance.objects.filter(pk=c.pk).update(use="ai-eval"),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_any_changed_field_invalidates_the_quote(
    catalogue: ClearanceCatalogue, invoice_org: Any, clearance: Clearance, change: str
) -> None:
    CHANGES[change](clearance, catalogue)
    clearance.refresh_from_db()
    books = (License.objects.count(), Purchase.objects.count())

    with pytest.raises(LicensingError) as raised:
        clearance_purchase(organization=invoice_org, clearance_id=clearance.public_id)

    assert (raised.value.http_status, raised.value.code) == (409, "quote_changed")
    assert (License.objects.count(), Purchase.objects.count()) == books
    assert Clearance.objects.get(pk=clearance.pk).status == Clearance.Status.READY
    # Nothing was frozen either: the refused purchase rolled its freeze back.
    frozen = OfferVersion.objects.filter(licensed_at__isnull=False)
    assert not frozen.exclude(offer=catalogue.held_offer).exists()


def test_a_term_edited_in_place_is_named_by_the_digest(
    catalogue: ClearanceCatalogue, invoice_org: Any, clearance: Clearance
) -> None:
    # Same price, same version id: only the term moved, which no other check looks at.
    offer_update(offer=catalogue.sha_offer, terms={"term_days": 30})

    with pytest.raises(LicensingError) as raised:
        clearance_purchase(organization=invoice_org, clearance_id=clearance.public_id)

    assert [detail["code"] for detail in raised.value.details] == ["quote_digest_mismatch"]


def test_the_digest_taken_at_purchase_is_the_one_taken_at_create(clearance: Clearance) -> None:
    assert len(clearance.quote_digest) == 64
    assert quote_digest_now(clearance, quoted_version_pks(clearance)) == clearance.quote_digest
