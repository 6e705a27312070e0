"""A creator in a real browser: create an offer, reprice it after a sale, see both versions,
and fail to open another creator's work by URL.

Drives Debian's headless Chromium through Playwright (never a downloaded browser) against
pytest-django's live server, and keeps a screenshot in `tests/artifacts/`.
"""

from __future__ import annotations

import pytest

from licensing.models import Offer, OfferVersion
from licensing.services.offers import offer_version_mark_licensed
from tests.factories import WorkFactory


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_creator_reprices_a_licensed_offer_and_sees_both_versions(
    live_server, page, portal_login, screenshot, make_portal_creator
) -> None:
    alice = make_portal_creator("alice", display_name="Alice Atelier")
    bob = make_portal_creator("bob")
    WorkFactory(creator=alice, title="Orchard Songs")
    bobs_work = WorkFactory(creator=bob, title="Bob's private notebook")

    portal_login("alice")

    # Create an offer.
    page.goto(f"{live_server.url}/admin/licensing/offer/add/")
    page.select_option("#id_work", label="Orchard Songs")
    page.select_option("#id_use", "ai-train")
    page.select_option("#id_status", "active")
    page.select_option("#id_pricing", "flat")
    page.select_option("#id_currency", "eur")
    # The portal takes prices in major units: €10.00 is 1000 cents on the wire.
    page.fill("#id_amount", "10.00")
    page.fill("#id_term_days", "365")
    page.click("input[name=_save]")
    page.wait_for_url(f"{live_server.url}/admin/licensing/offer/")
    offer = Offer.objects.get(creator=alice)
    assert (offer.current_version.version, offer.current_version.amount) == (1, 1000)

    # Someone buys it; then the creator changes the price.
    first = offer_version_mark_licensed(offer_version=offer.current_version)
    page.goto(f"{live_server.url}/admin/licensing/offer/{offer.pk}/change/")
    page.fill("#id_amount", "15.00")
    page.click("input[name=_save]")
    page.wait_for_url(f"{live_server.url}/admin/licensing/offer/")

    # The new version is current; the one sold stays exactly as it was.
    page.goto(f"{live_server.url}/admin/licensing/offer/{offer.pk}/change/")
    assert page.input_value("#id_amount") == "15.00"
    rows = page.locator("#versions-group tbody tr.form-row")
    versions = [
        (
            rows.nth(index).locator("td.field-version").inner_text().strip(),
            rows.nth(index).locator("td.field-price").inner_text().strip(),
        )
        for index in range(rows.count())
    ]
    assert versions == [("2", "€15.00"), ("1", "€10.00")]
    screenshot("portal_offer_versions")
    kept = OfferVersion.objects.get(pk=first.pk)
    assert (kept.version, kept.amount, kept.licensed_at) == (1, 1000, first.licensed_at)
    assert Offer.objects.get(pk=offer.pk).current_version.amount == 1500

    # Another creator's work cannot be opened by URL.
    response = page.goto(f"{live_server.url}/admin/licensing/work/{bobs_work.pk}/change/")
    assert response.status == 404
    assert "Bob's private notebook" not in page.content()
