"""A purchase grants exactly the offer version it quoted (issue 13, finding 1).

The price is taken before a card is charged; the license, its term and its signed
certificate must say the same terms, whatever the creator edits meanwhile. The
purchase freezes the version it quoted (its id and the digest of its terms) before any
money moves, and a version that a purchase points at is never edited in place.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from django.db import connection
from joserfc import jws

from ledger.models import Entry
from licensing.models import License, OfferVersion, Purchase
from licensing.services import license_grants, purchases
from licensing.services.creators import creator_create
from licensing.services.offers import OfferTerms, offer_create, offer_update, offer_version_digest
from licensing.services.organizations import organization_create
from licensing.services.purchases import license_purchase
from licensing.services.works import work_create
from tests.licensing.licensee_fixtures import Catalogue

EDIT = {"term_days": 1, "commercial": False, "amount": 999_999}


def _certificate_terms(granted: License) -> dict[str, Any]:
    payload = jws.extract_compact(granted.certificate.encode()).payload
    return json.loads(payload)


def _race_offer() -> tuple[Any, Any]:
    creator = creator_create(username="editor", password=None)
    work = work_create(creator=creator, title="Edited", kind="text")
    offer = offer_create(
        creator=creator,
        work=work,
        use="ai-train",
        terms=OfferTerms(pricing="flat", currency="eur", amount=5_000, term_days=365),
        status="active",
    )
    return offer, work


def _assert_granted_as_quoted(granted: License, offer: Any) -> None:
    version = granted.offer_version
    assert (version.version, version.amount, version.term_days, version.commercial) == (
        1,
        5_000,
        365,
        True,
    )
    assert granted.amount == 5_000
    assert (granted.ends_at - granted.starts_at).days == 365
    statement = _certificate_terms(granted)
    assert statement["terms"]["amount"] == 5_000
    assert statement["terms"]["term_days"] == 365
    assert statement["terms"]["commercial"] is True
    assert statement["amount"] == 5_000
    assert granted.purchase.offer_version_digest == offer_version_digest(version)
    # The edit was kept, as the next version, for the next buyer.
    offer.refresh_from_db()
    current = offer.current_version
    assert (current.version, current.amount, current.term_days, current.commercial) == (
        2,
        999_999,
        1,
        False,
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_edit_during_a_slow_card_charge_does_not_change_the_license(
    stripe_sandbox_settings: Any, stripe_sandbox_control: Any
) -> None:
    offer, _ = _race_offer()
    organization = organization_create(
        slug="slow-card", billing="card", payment_method="pm_card_visa"
    )
    stripe_sandbox_control.arm_fault("/v1/payment_intents", "slow", delay_ms=1_500)
    granted: list[License] = []

    def buyer() -> None:
        try:
            granted.append(
                license_purchase(organization=organization, offer_id=offer.public_id, work_ids=None)
            )
        finally:
            connection.close()

    thread = threading.Thread(target=buyer)
    thread.start()
    deadline = time.monotonic() + 10
    while not Purchase.objects.filter(organization=organization).exists():
        assert time.monotonic() < deadline, "the purchase row was never committed"
        time.sleep(0.02)
    offer_update(offer=offer, terms=EDIT)  # while Stripe is still answering
    thread.join(timeout=30)

    assert granted, "the purchase did not complete"
    license_ = License.objects.select_related("offer_version", "purchase").get()
    _assert_granted_as_quoted(license_, offer)
    from payouts.stripe import gateway

    assert gateway.balance_retrieve().available["eur"] == 5_000


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_edit_during_an_invoiced_grant_does_not_change_the_license(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The invoiced grant slowed (its signing) while another connection edits the offer."""
    offer, _ = _race_offer()
    organization = organization_create(slug="slow-invoice", billing="invoice")
    signing = license_grants.certificate_sign
    started = threading.Event()

    def slow_sign(**kwargs: Any) -> str:
        started.set()
        time.sleep(1.0)
        return signing(**kwargs)

    monkeypatch.setattr(license_grants, "certificate_sign", slow_sign)
    edited: list[int] = []

    def editor() -> None:
        try:
            started.wait(timeout=10)
            edited.append(offer_update(offer=offer, terms=EDIT).current_version.version)
        finally:
            connection.close()

    thread = threading.Thread(target=editor)
    thread.start()
    license_purchase(organization=organization, offer_id=offer.public_id, work_ids=None)
    thread.join(timeout=30)

    assert edited == [2]
    license_ = License.objects.select_related("offer_version", "purchase").get()
    _assert_granted_as_quoted(license_, offer)
    assert license_.invoice_line.amount == 5_000


@pytest.mark.django_db
def test_an_edit_between_quoting_and_freezing_is_priced_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An edit that commits after the price was read but before the freeze: the license
    and its price come from one version's terms, never the old price with new terms."""
    offer, _ = _race_offer()
    organization = organization_create(slug="quoted-invoice", billing="invoice")
    quote = purchases.purchase_quote
    calls: list[int] = []

    def quote_then_edit(**kwargs: Any) -> purchases.Quote:
        quoted = quote(**kwargs)
        if not calls:
            offer_update(offer=offer, terms={"term_days": 1, "amount": 7_000})
        calls.append(1)
        return quoted

    monkeypatch.setattr(purchases, "purchase_quote", quote_then_edit)
    granted = license_purchase(organization=organization, offer_id=offer.public_id, work_ids=None)

    granted = License.objects.select_related("offer_version").get(pk=granted.pk)
    version = granted.offer_version
    assert (version.amount, version.term_days) == (7_000, 1)
    assert granted.amount == 7_000  # the price of the terms granted, not the stale quote's
    assert granted.invoice_line.amount == 7_000
    assert (granted.ends_at - granted.starts_at).days == 1
    assert _certificate_terms(granted)["terms"]["amount"] == 7_000
    money_in = Entry.objects.filter(amount_micros__gt=0).get()
    assert money_in.amount_micros == 70_000_000
    assert len(calls) == 2


def test_a_declined_purchase_freezes_the_version_it_points_at(
    catalogue: Catalogue, declining_org: Any
) -> None:
    offer = catalogue.flat_offer
    with pytest.raises(purchases.LicensingError):
        license_purchase(organization=declining_org, offer_id=offer.public_id, work_ids=None)
    purchase = Purchase.objects.get()
    first = OfferVersion.objects.get(pk=purchase.offer_version_id)

    offer_update(offer=offer, terms={"amount": 2_000})

    first.refresh_from_db()
    assert first.amount == 1_000  # what the failed purchase row says it asked for
    offer.refresh_from_db()
    assert offer.current_version.version == 2
    assert offer.current_version.amount == 2_000
    assert purchase.offer_version_digest == offer_version_digest(first)


def test_a_version_a_purchase_points_at_is_frozen_even_without_the_mark(
    catalogue: Catalogue, invoice_org: Any
) -> None:
    """Rows written before the freeze-at-claim rule: the purchase table is read too."""
    offer = catalogue.flat_offer
    version = offer.current_version
    Purchase.objects.create(
        organization=invoice_org,
        request_key="old-row",
        request_digest="x",
        offer_version=version,
        amount=1_000,
        currency="eur",
    )
    assert version.licensed_at is None

    offer_update(offer=offer, terms={"amount": 3_000})

    version.refresh_from_db()
    assert version.amount == 1_000
    offer.refresh_from_db()
    assert offer.current_version.version == 2


def test_a_grant_refuses_a_version_whose_terms_differ_from_the_priced_ones(
    catalogue: Catalogue, invoice_org: Any
) -> None:
    """The webhook's completion re-reads the version: tampered terms grant nothing."""
    offer = catalogue.flat_offer
    quote = purchases.purchase_quote(
        organization=invoice_org, offer_id=offer.public_id, work_ids=None
    )
    purchase = Purchase.objects.create(
        organization=invoice_org,
        request_key="tampered",
        request_digest=quote.digest(),
        offer_version=quote.version,
        offer_version_digest=quote.version_digest,
        work_ids=[work.public_id for work in quote.works],
        amount=quote.amount,
        currency="eur",
    )
    OfferVersion.objects.filter(pk=quote.version.pk).update(term_days=36_500)

    with pytest.raises(RuntimeError, match="changed after it was priced"):
        purchases.purchase_complete(purchase=purchase, payment_intent_id="pi_x")

    assert not License.objects.exists()
    assert not Entry.objects.exists()
