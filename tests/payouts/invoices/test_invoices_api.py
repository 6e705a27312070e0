"""GET /api/v1/invoices, …/{id}, …/{id}.pdf with a licensee key; the admin's invoices.

One posted January: the invoice-billed organisation used 1,000,001 tokens at 0.042
cents (42,000.042 cents), another organisation 3,000 tokens (126 cents).
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from pypdf import PdfReader

from ledger.display import money_from_minor
from ledger.models import Transaction
from licensing.api.usage_decode import EventInput
from licensing.services.organizations import organization_member_add
from licensing.services.purchases import license_purchase
from licensing.services.usage_ingest import usage_ingest
from payouts.models import Invoice
from tests.factories import OrganizationFactory
from tests.payouts.invoices.runs import post_run
from tests.payouts.royalty_fixtures import buy

pytestmark = pytest.mark.django_db


@pytest.fixture
def january(
    catalogue, invoice_org, usage, finance, monkeypatch, django_capture_on_commit_callbacks
):
    other = OrganizationFactory(slug="other-lab", name="Other Lab")
    for organization, tokens in ((invoice_org, 1_000_001), (other, 3_000)):
        granted = buy(
            monkeypatch,
            organization=organization,
            offer=catalogue.per_unit_offer,
            at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC),
        )
        usage.declare("2026-01", granted, catalogue.solo_work, tokens)
    post_run("2026-01", finance, django_capture_on_commit_callbacks)
    return Invoice.objects.get(organization=invoice_org), Invoice.objects.get(organization=other)


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_licensee_lists_and_reads_its_invoice(
    january, invoice_org, client_for, django_assert_max_num_queries
):
    mine, _ = january
    client = client_for(invoice_org)

    with django_assert_max_num_queries(8):
        listed = client.get("/api/v1/invoices")

    assert listed.status_code == 200
    assert [invoice["id"] for invoice in listed.json()["data"]] == [mine.public_id]
    body = client.get(f"/api/v1/invoices/{mine.public_id}").json()
    assert body == listed.json()["data"][0]
    assert {key: body[key] for key in ("object", "period", "status", "currency")} == {
        "object": "invoice",
        "period": "2026-01",
        "status": "open",
        "currency": "eur",
    }
    [line] = body["lines"]
    assert (line["license"], line["kind"], line["units"]) == (
        mine.items.get().license.public_id,
        "per_unit",
        1_000_001,
    )
    assert (line["amount"], line["amount_decimal"]) == (42_000, "42000.042")
    assert (body["total"], body["total_decimal"], body["amount_due"]) == (
        42_000,
        "42000.042",
        42_000,
    )
    assert body["due_at"] == (mine.created_at + dt.timedelta(days=30)).isoformat()
    assert client.get("/api/v1/invoices?period=2026-01").json()["data"] == [body]
    assert client.get("/api/v1/invoices?period=2025-12").json()["data"] == []


def test_the_pdf_shows_the_api_s_figures(january, invoice_org, client_for):
    mine, _ = january
    client = client_for(invoice_org)
    body = client.get(f"/api/v1/invoices/{mine.public_id}").json()

    answer = client.get(f"/api/v1/invoices/{mine.public_id}.pdf")

    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/pdf"
    text = pdf_text(answer.content)
    assert mine.public_id in text
    assert money_from_minor(Decimal(body["total_decimal"]), "eur") in text  # €42,000.042
    assert money_from_minor(body["amount_due"], "eur") in text  # €42,000.00
    assert money_from_minor(Decimal(body["lines"][0]["amount_decimal"]), "eur") in text
    assert "1,000,001" in text


def test_another_organisation_s_invoice_is_not_found_and_bad_input_is_400(
    january, invoice_org, client_for, finance_client
):
    _, theirs = january
    client = client_for(invoice_org)

    for path in (
        f"/api/v1/invoices/{theirs.public_id}",
        f"/api/v1/invoices/{theirs.public_id}.pdf",
    ):
        answer = client.get(path)
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "invoice_not_found"
    assert client.get("/api/v1/invoices/inv_nope").status_code == 404
    bad = client.get("/api/v1/invoices?period=2026-13")
    assert bad.status_code == 400
    assert (bad.json()["error"]["code"], bad.json()["error"]["param"]) == (
        "period_invalid",
        "period",
    )
    assert finance_client.get("/api/v1/invoices").status_code == 403
    assert Client().get("/api/v1/invoices").status_code == 401


# -- the admin -------------------------------------------------------------------------


def _action(client: Client, invoice: Invoice, action: str = "mark_paid"):
    return client.post(
        "/admin/payouts/invoice/",
        {"action": action, "_selected_action": [invoice.pk]},
        follow=True,
    )


def test_finance_marks_an_invoice_paid_in_the_admin(january, finance):
    mine, _ = january
    client = Client()
    client.force_login(finance)

    assert client.get("/admin/payouts/invoice/").status_code == 200
    assert client.get(f"/admin/payouts/invoice/{mine.pk}/change/").status_code == 200
    answer = _action(client, mine)

    assert answer.status_code == 200
    mine.refresh_from_db()
    assert (mine.status, mine.paid_by, mine.marked_paid_by) == ("paid", "manual", finance)
    assert Transaction.objects.filter(kind="invoice_payment").count() == 1
    _action(client, mine)  # again: refused with a message, nothing posted
    assert Transaction.objects.filter(kind="invoice_payment").count() == 1


def test_members_see_their_own_invoices_and_may_not_mark_them_paid(january, invoice_org):
    mine, theirs = january
    users = get_user_model().objects
    member = users.create_user("member", password="x")
    organization_member_add(organization=invoice_org, username="member")
    client = Client()
    client.force_login(member)

    listed = client.get("/admin/payouts/invoice/")
    assert listed.status_code == 200
    assert mine.public_id in listed.content.decode()
    assert theirs.public_id not in listed.content.decode()
    assert client.get(f"/admin/payouts/invoice/{theirs.pk}/change/").status_code == 404
    assert client.get(f"/admin/payouts/invoice/{mine.pk}/change/").status_code == 200

    _action(client, mine)
    _action(client, theirs)

    for invoice in (mine, theirs):
        invoice.refresh_from_db()
    assert (mine.status, theirs.status) == ("open", "open")
    assert not Transaction.objects.filter(kind="invoice_payment").exists()


def test_staff_without_finance_rights_or_membership_see_no_invoices(january):
    mine, _ = january
    clerk = get_user_model().objects.create_user("clerk", password="x", is_staff=True)
    client = Client()
    client.force_login(clerk)

    assert client.get("/admin/payouts/invoice/").status_code == 403
    _action(client, mine)

    mine.refresh_from_db()
    assert mine.status == "open"
    assert not Transaction.objects.filter(kind="invoice_payment").exists()


def test_the_upcoming_invoice_shows_this_month_so_far(catalogue, invoice_org, client_for):
    # This month: a flat purchase (10.00 EUR) and 1,001 tokens of declared usage
    # (42.042 cents), one of them flagged (a work the license does not cover).
    per_unit = license_purchase(
        organization=invoice_org, offer_id=catalogue.per_unit_offer.public_id, work_ids=None
    )
    license_purchase(
        organization=invoice_org, offer_id=catalogue.flat_offer.public_id, work_ids=None
    )
    now = timezone.now()  # after the license's start: usage before it would be out of term
    events = [
        (EventInput(id=event_id, license=per_unit.public_id, work=work.public_id, units=units,
                    unit="token", occurred_at=now), ("public_id", work.public_id))
        for event_id, work, units in (
            ("u-1", catalogue.solo_work, 1_000), ("u-2", catalogue.solo_work, 1),
            ("u-3", catalogue.shared_work, 5),
        )
    ]  # fmt: skip
    usage_ingest(organization=invoice_org, events=events, at=now)

    body = client_for(invoice_org).get("/api/v1/invoices/upcoming").json()

    assert (body["id"], body["status"], body["period"]) == (None, "upcoming", now.strftime("%Y-%m"))
    assert [(line["kind"], line["amount_decimal"]) for line in body["lines"]] == [
        ("purchase", "1000"),
        ("per_unit", "42.042"),
    ]
    assert body["lines"][1]["units"] == 1_001
    assert (body["total"], body["total_decimal"], body["amount_due"]) == (1_042, "1042.042", 1_042)
    assert not Invoice.objects.exists()  # nothing is issued before the run posts
