"""The clearance pages of the portal: read-only; finance and staff see all, members their own."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin as django_admin
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory

from licensing.errors import LicensingError
from licensing.models import Clearance, ClearanceItem, Offer, Work
from licensing.services.clearance_purchases import clearance_purchase
from licensing.services.clearances import clearance_create
from licensing.services.creators import finance_user_create
from licensing.services.offers import offer_delete
from licensing.services.organizations import organization_create, organization_member_add
from licensing.services.works import work_delete
from tests.licensing.clearance_catalogue import (
    USE,
    ClearanceCatalogue,
    clearance_catalogue,
    mixed_manifest,
)

pytestmark = pytest.mark.django_db
CLEARANCES = "/admin/licensing/clearance/"
ITEMS = "/admin/licensing/clearanceitem/"


@pytest.fixture
def catalogue(db: Any) -> ClearanceCatalogue:
    return clearance_catalogue()


@pytest.fixture
def mine(catalogue: ClearanceCatalogue) -> Clearance:
    organization = organization_create(slug="mine", name="Mine Lab", billing="invoice")
    clearance = clearance_create(
        organization=organization, use=USE, items=mixed_manifest(catalogue)
    )
    clearance_purchase(organization=organization, clearance_id=clearance.public_id)
    clearance.refresh_from_db()
    return clearance


@pytest.fixture
def theirs(catalogue: ClearanceCatalogue) -> Clearance:
    organization = organization_create(slug="theirs", name="Theirs Lab", billing="invoice")
    return clearance_create(organization=organization, use=USE, items=mixed_manifest(catalogue))


def _login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def member(mine: Clearance) -> Client:
    get_user_model().objects.create_user("member", password="pw")
    organization_member_add(organization=mine.organization, username="member")
    return _login(get_user_model().objects.get(username="member"))


def _item(clearance: Clearance) -> ClearanceItem:
    return ClearanceItem.objects.filter(clearance=clearance).order_by("position").first()


def test_a_member_sees_the_clearance_with_quote_items_and_licenses(
    mine: Clearance, theirs: Clearance, member: Client
) -> None:
    listed = member.get(CLEARANCES).content.decode()
    page = member.get(f"{CLEARANCES}{mine.pk}/change/")

    assert mine.public_id in listed
    assert theirs.public_id not in listed
    assert page.status_code == 200
    body = page.content.decode()
    assert "€51.00" in body  # the quote, 5,100 cents
    assert "licensable 7, licensed 0, reserved 3, unknown 2" in body
    assert _item(mine).identifier in body
    assert f"?clearance__public_id={mine.public_id}" in body
    for license_id in mine.items.filter(license__isnull=False).values_list(
        "license__public_id", flat=True
    ):
        assert license_id in body
    assert 'name="_save"' not in body  # read-only: no save button
    assert member.get(CLEARANCES, {"status": "purchased"}).context["cl"].result_count == 1


def test_a_member_gets_404_for_another_organisations_clearance_and_items(
    mine: Clearance, theirs: Clearance, member: Client
) -> None:
    assert member.get(f"{CLEARANCES}{theirs.pk}/change/").status_code == 404
    assert member.get(f"{ITEMS}{_item(theirs).pk}/change/").status_code == 404
    filtered = member.get(ITEMS, {"clearance__public_id": theirs.public_id})
    assert filtered.status_code == 200
    assert filtered.context["cl"].result_count == 0
    own = member.get(ITEMS, {"clearance__public_id": mine.public_id})
    assert own.context["cl"].result_count == mine.items_count


def test_nobody_writes_a_clearance_in_the_portal(
    mine: Clearance, member: Client, django_user_model: Any
) -> None:
    staff = _login(django_user_model.objects.create_superuser("ops", "ops@example.com", "pw"))
    for client in (member, staff):
        assert client.get(f"{CLEARANCES}add/").status_code == 403
        assert client.post(f"{CLEARANCES}{mine.pk}/delete/", {"post": "yes"}).status_code == 403
        client.post(f"{CLEARANCES}{mine.pk}/change/", {"status": "ready", "quote_amount": 1})
        assert client.post(f"{ITEMS}{_item(mine).pk}/delete/", {"post": "yes"}).status_code == 403
    mine.refresh_from_db()
    assert (mine.status, mine.quote_amount) == ("purchased", 5_100)
    assert ClearanceItem.objects.filter(clearance=mine).count() == mine.items_count


def test_finance_and_superusers_see_every_organisations_clearances(
    mine: Clearance, theirs: Clearance, django_user_model: Any
) -> None:
    finance = _login(finance_user_create(username="fin", password="pw"))
    staff = _login(django_user_model.objects.create_superuser("ops", "ops@example.com", "pw"))
    for client in (finance, staff):
        listed = client.get(CLEARANCES).content.decode()
        assert mine.public_id in listed
        assert theirs.public_id in listed
        assert client.get(f"{CLEARANCES}{theirs.pk}/change/").status_code == 200
        items = client.get(ITEMS, {"clearance__public_id": theirs.public_id})
        assert items.context["cl"].result_count == theirs.items_count


def test_creators_other_staff_and_strangers_see_no_clearance(
    catalogue: ClearanceCatalogue, mine: Clearance, django_user_model: Any
) -> None:
    creator = _login(catalogue.alice.user)
    plain_staff = _login(django_user_model.objects.create_user("desk", is_staff=True))
    for client in (creator, plain_staff):
        assert client.get(CLEARANCES).status_code == 403
        assert client.get(f"{CLEARANCES}{mine.pk}/change/").status_code == 404
        assert client.get(ITEMS).status_code == 403
        assert CLEARANCES not in client.get("/admin/").content.decode()
    anonymous = Client().get(CLEARANCES)
    assert anonymous.status_code == 302
    assert "/login/" in anonymous["Location"]


def test_a_member_of_an_organisation_without_clearances_sees_an_empty_list(
    mine: Clearance, django_user_model: Any
) -> None:
    other = organization_create(slug="quiet", billing="invoice")
    django_user_model.objects.create_user("quiet-member")
    organization_member_add(organization=other, username="quiet-member")
    client = _login(django_user_model.objects.get(username="quiet-member"))

    listed = client.get(CLEARANCES)

    assert listed.status_code == 200
    assert listed.context["cl"].result_count == 0
    assert client.get(f"{CLEARANCES}{mine.pk}/change/").status_code == 404


def test_a_work_or_offer_a_quote_names_is_refused_deletion_not_a_500(theirs: Clearance) -> None:
    """The clearance's record keeps what it quoted: deleting it is a 4xx, never a 500."""
    quoted = ClearanceItem.objects.filter(clearance=theirs, offer__isnull=False).first()
    work, offer = Work.objects.get(pk=quoted.work_id), Offer.objects.get(pk=quoted.offer_id)
    assert work.offers.filter(current_version__licensed_at__isnull=False).count() == 0
    with pytest.raises(LicensingError) as refused:
        work_delete(work=work)
    assert 400 <= refused.value.http_status < 500
    with pytest.raises(LicensingError):
        offer_delete(offer=offer)
    assert Work.objects.filter(pk=work.pk).exists()
    assert Offer.objects.filter(pk=offer.pk).exists()
    request = RequestFactory().get("/")
    request.user = get_user_model().objects.create_superuser("root", password="pw")
    assert not django_admin.site._registry[Work].has_delete_permission(request, work)
    assert not django_admin.site._registry[Offer].has_delete_permission(request, offer)
