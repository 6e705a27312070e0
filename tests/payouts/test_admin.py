"""The payouts portal pages: finance's batches, items, holds, reconciliation; the
creator's "Connect with Stripe"."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from ledger.display import money_from_minor
from licensing.services.creators import creator_create
from payouts.models import CreatorHold, PayoutItem, Reconciliation
from payouts.services.payout_batches import payout_batch_create
from tests.payouts.builders import creator_onboard, creators_bulk_create, creators_fund

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_sandbox_settings")]


@pytest.fixture
def finance_browser(finance_user: Any) -> Client:
    client = Client()
    client.force_login(finance_user)
    return client


@pytest.fixture
def batch(stripe_sandbox_control: Any) -> Any:
    creators = creators_bulk_create(2)
    creators_fund(creators)
    for creator in creators:
        creator_onboard(creator, stripe_sandbox_control)
    return payout_batch_create(currency="eur")


def test_finance_sees_batches_with_totals_and_chart_items_and_csv(
    finance_browser: Client, batch: Any
) -> None:
    page = finance_browser.get("/admin/payouts/payoutbatch/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Totals by currency" in html
    assert money_from_minor(batch.total, "eur") in html  # as finance writes it: €12.34
    assert "<svg" in html
    assert finance_browser.get(f"/admin/payouts/payoutbatch/{batch.pk}/change/").status_code == 200
    items = finance_browser.get("/admin/payouts/payoutitem/?status__exact=pending")
    assert items.status_code == 200
    item = PayoutItem.objects.first()
    assert item.public_id in items.content.decode()
    assert money_from_minor(item.amount, item.currency) in items.content.decode()
    csv = finance_browser.get(f"/admin/payouts/payoutbatch/{batch.pk}/items.csv")
    assert b"".join(csv.streaming_content).decode().count("\n") == 3
    assert finance_browser.get("/admin/payouts/reconciliation/").status_code == 200


def test_finance_holds_and_releases_a_creator_in_the_portal(
    finance_browser: Client, batch: Any
) -> None:
    creator = PayoutItem.objects.first().creator
    response = finance_browser.post(
        "/admin/payouts/creatorhold/add/", {"creator": creator.pk, "reason": "KYC"}
    )
    assert response.status_code == 302
    hold = CreatorHold.objects.get(creator=creator)
    response = finance_browser.post(
        "/admin/payouts/creatorhold/",
        {"action": "delete_selected", "_selected_action": [hold.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not CreatorHold.objects.exists()


def test_the_latest_reconciliation_warns_of_differences(finance_browser: Client) -> None:
    Reconciliation.objects.create(
        date="2026-01-01",
        differences=[{"kind": "missing_in_ledger", "ledger": None, "stripe": "tr_x",
                      "amount": 5, "currency": "eur"}],
    )  # fmt: skip
    page = finance_browser.get("/admin/payouts/reconciliation/", follow=True)
    assert "found 1 differences" in page.content.decode()
    row = Reconciliation.objects.get()
    detail = finance_browser.get(f"/admin/payouts/reconciliation/{row.pk}/change/")
    assert "<td>€0.05</td>" in detail.content.decode()


def test_a_creator_does_not_see_finance_pages(batch: Any) -> None:
    creator = PayoutItem.objects.first().creator
    client = Client()
    client.force_login(creator.user)
    for url in ["/admin/payouts/payoutbatch/", "/admin/payouts/payoutitem/",
                "/admin/payouts/creatorhold/", "/admin/payouts/reconciliation/",
                f"/admin/payouts/payoutbatch/{batch.pk}/items.csv"]:  # fmt: skip
        assert client.get(url).status_code in {403, 404}, url


def test_a_creator_connects_with_stripe_from_the_portal(stripe_sandbox_control: Any) -> None:
    creator = creator_create(username="carol", password="x" * 12)
    client = Client()
    client.force_login(creator.user)
    page = client.get("/admin/payouts/payoutaccount/", follow=True)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Connect with Stripe" in html
    assert "not paid out" in html
    response = client.post("/admin/payouts/payoutaccount/connect/")
    assert response.status_code == 302
    assert "/_sandbox/onboarding/" in response["Location"]
