"""Organisations: the bootstrap commands and the portal, scoped to each organisation's members."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from licensing.models import ApiKey, LicenseeOrganization
from licensing.services.organizations import organization_create, organization_member_add
from licensing.services.purchases import license_purchase
from payouts.stripe import gateway
from tests.licensees.conftest import Catalogue

pytestmark = pytest.mark.django_db


def test_create_org_with_a_card_makes_a_stripe_customer(
    stripe_sandbox_settings, capsys: pytest.CaptureFixture
) -> None:
    call_command("create_org", "acme-ai", "--billing", "card", "--payment-method", "pm_card_visa")

    organization = LicenseeOrganization.objects.get(slug="acme-ai")
    assert capsys.readouterr().out.strip().startswith(organization.public_id)
    assert organization.billing == "card"
    assert organization.stripe_customer_id.startswith("cus_")
    assert organization.stripe_payment_method_id.startswith("pm_")
    intent = gateway.payment_intent_confirm_off_session(
        idempotency_key="test-charge",
        customer_id=organization.stripe_customer_id,
        payment_method_id=organization.stripe_payment_method_id,
        amount=100,
        currency="eur",
    )
    assert intent.status == "succeeded"


def test_create_org_on_invoice_needs_no_stripe(capsys: pytest.CaptureFixture) -> None:
    call_command("create_org", "invoice-ai", "--currency", "usd", "--name", "Invoice AI")
    organization = LicenseeOrganization.objects.get(slug="invoice-ai")
    assert (organization.billing, organization.currency, organization.name) == (
        "invoice",
        "usd",
        "Invoice AI",
    )
    assert organization.stripe_customer_id == ""


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        (["taken"], "exists"),
        (["new-one", "--currency", "xyz"], "not supported"),
        (["new-one", "--billing", "card"], "needs a payment method"),
        (["Not A Slug!"], "slug"),
    ],
)
def test_create_org_refuses_bad_input_with_one_line(arguments: list[str], reason: str) -> None:
    organization_create(slug="taken")
    with pytest.raises(CommandError, match=reason):
        call_command("create_org", *arguments)
    assert LicenseeOrganization.objects.count() == 1


def test_create_api_key_for_an_org_prints_only_the_key(capsys: pytest.CaptureFixture) -> None:
    organization = organization_create(slug="keyed")
    call_command("create_api_key", "--org", "keyed")
    raw_key = capsys.readouterr().out.strip()
    assert raw_key.startswith("ak_live_")
    assert " " not in raw_key
    key = ApiKey.objects.get()
    assert (key.kind, key.organization) == ("organization", organization)
    with pytest.raises(CommandError, match="no organisation"):
        call_command("create_api_key", "--org", "nobody")


def test_members_see_only_their_organisation_in_the_portal(
    catalogue: Catalogue, django_user_model
) -> None:
    mine = organization_create(slug="mine", billing="invoice")
    theirs = organization_create(slug="theirs", billing="invoice")
    member = django_user_model.objects.create_user("member", password="pw")
    organization_member_add(organization=mine, username="member")
    my_license = license_purchase(
        organization=mine, offer_id=catalogue.flat_offer.public_id, work_ids=None
    )
    their_license = license_purchase(
        organization=theirs, offer_id=catalogue.flat_offer.public_id, work_ids=None
    )
    client = Client()
    client.force_login(member)

    organizations = client.get("/admin/licensing/licenseeorganization/")
    licenses = client.get("/admin/licensing/license/")

    assert organizations.status_code == 200
    assert "mine" in organizations.content.decode()
    assert "theirs" not in organizations.content.decode()
    assert my_license.public_id in licenses.content.decode()
    assert their_license.public_id not in licenses.content.decode()
    for url in (
        f"/admin/licensing/licenseeorganization/{theirs.pk}/change/",
        f"/admin/licensing/license/{their_license.pk}/change/",
    ):
        assert client.get(url).status_code == 404
    assert client.get(f"/admin/licensing/license/{my_license.pk}/change/").status_code == 200


def test_a_member_cannot_revoke_but_staff_can(catalogue: Catalogue, django_user_model) -> None:
    organization = organization_create(slug="mine", billing="invoice")
    django_user_model.objects.create_user("member", password="pw")
    organization_member_add(organization=organization, username="member")
    granted = license_purchase(
        organization=organization, offer_id=catalogue.flat_offer.public_id, work_ids=None
    )
    url = f"/admin/licensing/license/{granted.pk}/change/"
    member = Client()
    member.force_login(django_user_model.objects.get(username="member"))

    member.post(url, {"revoked_reason": "I'd rather not pay"})
    granted.refresh_from_db()
    assert granted.status == "active"

    staff = Client()
    staff.force_login(django_user_model.objects.create_superuser("ops", "ops@example.com", "pw"))
    response = staff.post(url, {"revoked_reason": "Chargeback"})
    granted.refresh_from_db()
    assert response.status_code == 302
    assert granted.status == "revoked"
    assert granted.revoked_reason == "Chargeback"
