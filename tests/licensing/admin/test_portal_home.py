"""The portal's front page: a creator's home (balance, this month's earnings, recent
licenses of their works, flagged usage, co-owned works) and the brand around it."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from licensing.selectors.portal import creator_home
from licensing.services.creators import creator_create
from licensing.services.purchases import license_purchase
from licensing.services.works import ShareSpec, work_create

pytestmark = pytest.mark.django_db


def _home(creator) -> str:
    client = Client()
    client.force_login(creator.user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return response.content.decode()


def _section(page: str, element_id: str) -> str:
    start = page.index(f'id="{element_id}"')
    ends = [page.find(marker, start + 1) for marker in ('id="home-', "<h2>Manage</h2>")]
    return page[start : min(end for end in ends if end != -1)]


@pytest.fixture
def sold(catalogue, invoice_org):
    """The co-owned work's flat offer (€10.00) sold once: 10% commission, then
    alice 6,667 bp and bob 3,333 bp of €9.00."""
    return license_purchase(
        organization=invoice_org, offer_id=catalogue.flat_offer.public_id, work_ids=None
    )


def test_the_owner_sees_what_they_are_owed_earned_and_sold(catalogue, sold) -> None:
    page = _home(catalogue.alice)

    assert "€6.0003" in _section(page, "home-balance")  # 9,000,000 micros times 0.6667
    assert "€6.0003" in _section(page, "home-earnings")
    licenses = _section(page, "home-licenses")
    assert sold.public_id in licenses
    assert "Invoice Lab" in licenses
    assert "€10.00" in licenses
    assert "No licenses yet" not in licenses


def test_a_co_owner_sees_their_share_and_the_work_read_only(catalogue, sold) -> None:
    page = _home(catalogue.bob)

    assert "€2.9997" in _section(page, "home-balance")
    assert sold.public_id in _section(page, "home-licenses")
    co_owned = _section(page, "home-co-owned")
    assert "Shared" in co_owned
    assert catalogue.alice.display_name in co_owned
    assert "33.33%" in co_owned
    assert "/admin/licensing/work/" not in co_owned  # nothing to edit: its owner manages it


def test_this_months_earnings_start_on_the_first_of_the_month(catalogue, sold) -> None:
    next_month = (sold.created_at.replace(day=1) + datetime.timedelta(days=32)).replace(day=2)

    later = creator_home(creator=catalogue.alice, at=next_month)

    assert [line.micros for line in later.balances] == [6_000_300]
    assert [line.micros for line in later.earned_this_month] == [0]
    assert later.month_label == f"{next_month:%B %Y}"


def test_another_creator_sees_none_of_it(catalogue, sold) -> None:
    carol = creator_create(username="carol", password=None)
    page = _home(carol)

    assert sold.public_id not in page
    assert "Invoice Lab" not in page
    assert "No licenses yet" in page
    assert "Nothing flagged" in page
    assert "Nothing yet." in _section(page, "home-balance")
    # Empty states say what to do next.
    assert reverse("admin:licensing_offer_add") in page
    assert reverse("admin:licensing_work_add") in page


def test_flagged_usage_reads_through_its_selector(catalogue, monkeypatch) -> None:
    from licensing.selectors import portal

    row = portal.FlaggedUsage(
        work_title="Solo", organization_name="Unknown Lab", flag="no_license", events=3
    )
    monkeypatch.setattr(portal, "creator_flagged_usage", lambda **kwargs: [row])

    flagged = _section(_home(catalogue.alice), "home-flagged")

    assert "Unknown Lab" in flagged
    assert "no_license" in flagged
    assert "Nothing flagged" not in flagged


def test_flagged_usage_of_this_month_shows_for_owners_and_co_owners_only(
    catalogue, invoice_org
) -> None:
    from django.utils import timezone

    from tests.usage.test_contract import _event

    bought = license_purchase(
        organization=invoice_org, offer_id=catalogue.per_unit_offer.public_id, work_ids=None
    )
    now = timezone.now()
    last_month = now.replace(day=1) - datetime.timedelta(days=1)
    _event(invoice_org, bought, catalogue.reserved_work, 4, now, flag="reserved")
    _event(invoice_org, bought, catalogue.reserved_work, 6, now, flag="reserved")
    _event(invoice_org, bought, catalogue.shared_work, 5, now, flag="unlicensed")
    _event(invoice_org, bought, catalogue.shared_work, 7, last_month, flag="unlicensed")
    _event(invoice_org, bought, catalogue.solo_work, 9, now)  # rated, never flagged

    alices = _section(_home(catalogue.alice), "home-flagged")
    bobs = _section(_home(catalogue.bob), "home-flagged")
    carols = _section(_home(creator_create(username="carol")), "home-flagged")

    org = invoice_org.name
    assert f"<td>Kept back</td><td>{org}</td><td>Reserved work</td><td>2</td><td>10</td>" in alices
    assert f"<td>Shared</td><td>{org}</td><td>Work not in the license</td><td>1</td><td>5</td>" in (
        alices
    )
    assert "Solo" not in alices
    assert "Shared" in bobs  # a co-owner sees the flags of the work they co-own
    assert "Kept back" not in bobs
    assert "Nothing flagged" in carols
    assert org not in carols


def test_staff_see_the_index_without_a_creator_home(admin_client, catalogue) -> None:
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert 'id="creator-home"' not in page
    assert "Licensing" in page  # Django's list of apps and models is still there


def test_the_portal_is_branded_accord_and_view_site_leads_home(catalogue) -> None:
    page = _home(catalogue.alice)

    assert "Django administration" not in page
    assert "Django site admin" not in page
    assert "<title>Your portal | Accord portal</title>" in page
    assert 'href="/">View site</a>' in page
    assert "accord/favicon.svg" in page


def test_the_home_page_costs_the_same_for_more_licenses(catalogue, invoice_org) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            _home(catalogue.bob)
        return len(captured)

    license_purchase(
        organization=invoice_org,
        offer_id=catalogue.flat_offer.public_id,
        work_ids=None,
        allow_duplicate=True,
    )
    before = queries()
    for _ in range(5):
        license_purchase(
            organization=invoice_org,
            offer_id=catalogue.flat_offer.public_id,
            work_ids=None,
            allow_duplicate=True,
        )
    work_create(
        creator=catalogue.alice,
        title="Another shared",
        kind="text",
        shares=[
            ShareSpec(catalogue.alice, 5_000),
            ShareSpec(catalogue.bob, 5_000),
        ],
    )
    assert queries() == before
