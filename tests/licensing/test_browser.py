"""A creator in a real browser: create an offer, reprice it after a sale, see both versions,
and fail to open another creator's work by URL.

Drives Debian's headless Chromium through Playwright (never a downloaded browser) against
pytest-django's live server, and keeps a screenshot in `test-artifacts/`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

from licensing import services
from licensing.models import Offer, OfferVersion
from tests.conftest import CHROMIUM_PATH

PASSWORD = "correct horse battery staple"
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser_page(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls
    # between browser steps are plain synchronous code all the same.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            browser.close()
            # ORM calls made while Playwright's loop runs get their own connection
            # (Django's connections are context-local); close it, or PostgreSQL cannot
            # drop the test database at the end of the run.
            connections.close_all()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_creator_reprices_a_licensed_offer_and_sees_both_versions(
    live_server, browser_page, make_creator, make_work
) -> None:
    alice = make_creator("alice", display_name="Alice Atelier", password=PASSWORD)
    bob = make_creator("bob", password=PASSWORD)
    make_work(alice, title="Orchard Songs")
    bobs_work = make_work(bob, title="Bob's private notebook")
    page = browser_page

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")

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
    first = services.offer_version_mark_licensed(offer_version=offer.current_version)
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
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "portal_offer_versions.png"), full_page=True)
    kept = OfferVersion.objects.get(pk=first.pk)
    assert (kept.version, kept.amount, kept.licensed_at) == (1, 1000, first.licensed_at)
    assert Offer.objects.get(pk=offer.pk).current_version.amount == 1500

    # Another creator's work cannot be opened by URL.
    response = page.goto(f"{live_server.url}/admin/licensing/work/{bobs_work.pk}/change/")
    assert response.status == 404
    assert "Bob's private notebook" not in page.content()
