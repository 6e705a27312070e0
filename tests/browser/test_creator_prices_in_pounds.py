"""A creator paid in pounds, in a real browser: log in, add a work (with a co-owner picked
by name), price an offer `12.50` and read `£12.50` on the offer list and the public page.

Keeps screenshots of the front door, the creator's home, the offer list and the public
page in `tests/artifacts/` (issue 19: "What must show it").
"""

from __future__ import annotations

import pytest

from licensing.models import Offer, Work
from licensing.services.purchases import license_purchase
from tests.factories import OrganizationFactory


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_creator_prices_an_offer_in_pounds_and_reads_it_as_written(
    live_server, page, portal_login, screenshot, make_portal_creator
) -> None:
    from tests.browser.conftest import csp_violations

    penny = make_portal_creator("penny", display_name="Penny Lane", payout_currency="gbp")
    make_portal_creator("ravi", display_name="Ravi Rao")

    # The front door says what Accord is and leads to the portal.
    page.goto(f"{live_server.url}/")
    assert "Accord" in page.title()
    assert page.locator("a[href='/admin/']").count() >= 1
    screenshot("front_door")

    portal_login("penny")
    assert page.locator("#home-balance").is_visible()
    assert "Django administration" not in page.content()
    screenshot("creator_home_empty")

    # A work, shared with a co-owner found by typing part of their name (no pasted id).
    page.goto(f"{live_server.url}/admin/licensing/work/add/")
    page.fill("#id_title", "Tide Tables")
    page.select_option("#id_kind", "text")
    _pick_co_owner(page, row=0, typed="Pen", name="Penny Lane", basis_points=7_500)
    page.click("#shares-group .add-row a")
    _pick_co_owner(page, row=1, typed="rav", name="Ravi Rao", basis_points=2_500)
    assert csp_violations(page) == []  # select2 and its answers under the portal's CSP
    page.click("input[name=_save]")
    page.wait_for_url(f"{live_server.url}/admin/licensing/work/")
    work = Work.objects.get(title="Tide Tables")
    assert dict(work.shares.values_list("creator__display_name", "basis_points")) == {
        "Penny Lane": 7_500,
        "Ravi Rao": 2_500,
    }

    # An offer typed as a person writes it; the currency follows the payout currency.
    page.goto(f"{live_server.url}/admin/licensing/offer/add/")
    assert page.input_value("#id_currency") == "gbp"
    page.select_option("#id_work", label="Tide Tables")
    page.select_option("#id_use", "ai-train")
    page.select_option("#id_status", "active")
    page.select_option("#id_pricing", "flat")
    page.fill("#id_amount", "12.50")
    page.fill("#id_term_days", "365")
    page.click("input[name=_save]")
    page.wait_for_url(f"{live_server.url}/admin/licensing/offer/")
    offer = Offer.objects.get(creator=penny)
    assert (offer.current_version.currency, offer.current_version.amount) == ("gbp", 1250)

    listed = page.locator("#result_list").inner_text()
    assert "£12.50" in listed
    assert "1250" not in listed
    screenshot("offer_list_gbp")

    # The public page shows the same price, as written.
    page.goto(f"{live_server.url}/works/{work.public_id}")
    assert "£12.50" in page.locator("table").inner_text()
    screenshot("public_work_page_gbp")

    # A licensee buys it; the creator's home shows the sale and their share of it:
    # £12.50 less 10% commission is £11.25, of which 75% is £8.4375 (to the micro).
    sale = license_purchase(
        organization=OrganizationFactory(name="Harbour Lab", currency="gbp"),
        offer_id=offer.public_id,
        work_ids=None,
    )
    page.goto(f"{live_server.url}/admin/")
    licenses = page.locator("#home-licenses").inner_text()
    assert sale.public_id in licenses
    assert "£12.50" in licenses
    assert "Harbour Lab" in licenses
    assert "£8.4375" in page.locator("#home-balance").inner_text()
    assert "£8.4375" in page.locator("#home-earnings").inner_text()
    screenshot("creator_home")

    # The co-owner reads the work on their home, and cannot open it to edit.
    page.context.clear_cookies()
    portal_login("ravi")
    assert "£2.8125" in page.locator("#home-balance").inner_text()
    co_owned = page.locator("#home-co-owned").inner_text()
    assert "Tide Tables" in co_owned
    assert "25%" in co_owned
    response = page.goto(f"{live_server.url}/admin/licensing/work/{work.pk}/change/")
    assert response.status == 404


def _pick_co_owner(page, *, row: int, typed: str, name: str, basis_points: int) -> None:
    page.click(f"#shares-{row} .select2-selection")
    page.fill(".select2-container--open .select2-search__field", typed)
    page.click(f".select2-container--open .select2-results__option >> text={name}")
    page.fill(f"#id_shares-{row}-basis_points", str(basis_points))
