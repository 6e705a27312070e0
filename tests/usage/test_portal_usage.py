"""Usage in the portal: a creator's page and home, staff's per-licensee report, denials."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from licensing.services.creators import creator_create, finance_user_create
from licensing.services.purchases import license_purchase
from tests.usage.test_ingest_api import _event, _post

URL = reverse("admin:licensing_usageevent_changelist")


def _page(user, query="?period=2026-10"):
    client = Client()
    client.force_login(user)
    return client.get(URL + query)


def _section(page: str, element_id: str) -> str:
    start = page.index(f'id="{element_id}"')
    end = page.find('<div class="module"', start + 1)
    return page[start : end if end != -1 else None]


def test_a_creator_sees_usage_per_work_per_licensee_and_the_flagged_events(declared, catalogue):
    response = _page(catalogue.alice.user)

    assert response.status_code == 200
    page = response.content.decode()
    by_work = _section(page, "usage-by-work")
    assert "Solo" in by_work
    assert "<td>1200</td>" in by_work
    assert "Kept back" in by_work
    assert "<td>7</td>" in by_work
    by_licensee = _section(page, "usage-by-licensee")
    assert "Invoice Lab" in by_licensee
    assert "reserved" in by_licensee
    flagged = _section(page, "usage-flagged")
    assert "2026-10-15 12:00:00" in flagged  # when
    assert "Invoice Lab" in flagged
    assert "Kept back" in flagged
    assert "7 token" in flagged
    assert "Shared" in flagged
    assert "unlicensed" in flagged


def test_a_co_owner_sees_only_the_co_owned_work_and_a_stranger_nothing(declared, catalogue):
    bob = _page(catalogue.bob.user).content.decode()
    carol = creator_create(username="carol", password=None)
    stranger = _page(carol.user).content.decode()

    assert "Shared" in _section(bob, "usage-by-work")
    assert "Solo" not in bob
    assert "Kept back" not in bob
    assert "Invoice Lab" not in stranger
    assert "No usage of your works declared in 2026-10" in stranger


def test_finance_sees_flagged_usage_per_licensee(declared, catalogue, invoice_org):
    finance = finance_user_create(username="fin")

    page = _page(finance).content.decode()

    report = _section(page, "usage-flagged-by-licensee")
    assert invoice_org.public_id in report
    assert "Kept back" in report
    assert "reserved" in report
    assert "Shared" in report
    assert "unlicensed" in report
    assert "Solo" not in report  # rated usage is not flagged


def test_staff_who_are_neither_creator_nor_finance_are_refused(declared):
    plain = get_user_model().objects.create_user(username="clerk", password=None, is_staff=True)

    assert _page(plain).status_code == 403
    anonymous = Client().get(URL)
    assert anonymous.status_code == 302
    assert "/login/" in anonymous["Location"]


def test_no_event_page_exists_and_a_bad_period_shows_this_month(declared, catalogue):
    client = Client()
    client.force_login(catalogue.alice.user)

    assert client.get(URL + "1/change/").status_code == 404
    response = client.get(URL + "?period=2026-13")
    assert response.status_code == 200
    assert "A period reads YYYY-MM" in response.content.decode()


def test_the_home_shows_this_months_flagged_usage_of_the_creators_works(
    catalogue, invoice_org, client_for
):
    per_unit = license_purchase(
        organization=invoice_org, offer_id=catalogue.per_unit_offer.public_id, work_ids=None
    )
    response = _post(
        client_for(invoice_org),
        {"events": [_event("now-reserved", per_unit, catalogue.reserved_work, units=9)]},
    )
    assert response.json()["flagged"]["reserved"] == 1
    client = Client()
    client.force_login(catalogue.alice.user)

    home = client.get(reverse("admin:index")).content.decode()
    flagged = home[home.index('id="home-flagged"') : home.index('id="home-co-owned"')]

    assert "Kept back" in flagged
    assert "Invoice Lab" in flagged
    assert "<td>9</td>" in flagged
    assert "Nothing flagged" not in flagged
    bob = Client()
    bob.force_login(catalogue.bob.user)
    assert "Nothing flagged" in bob.get(reverse("admin:index")).content.decode()
