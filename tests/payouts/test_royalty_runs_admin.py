"""Finance's royalty-run screens: start, preview with the difference, approve, CSV; denials."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client

from licensing.services.creators import finance_user_create
from payouts.models import RoyaltyRun
from tests.payouts.royalty_fixtures import FakeUsage, buy

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance_browser():
    client = Client()
    client.force_login(finance_user_create(username="fin"))
    return client


def test_start_preview_difference_approve_and_csv(
    finance_browser, catalogue, invoice_org, monkeypatch, django_capture_on_commit_callbacks
):
    usage = FakeUsage(monkeypatch)
    license = buy(
        monkeypatch,
        organization=invoice_org,
        offer=catalogue.per_unit_offer,
        at=datetime(2026, 1, 5, tzinfo=UTC),
    )
    usage.declare("2026-01", license, catalogue.solo_work, 10_000)  # 420 cents, net 378
    usage.declare("2026-02", license, catalogue.solo_work, 20_000)  # 840 cents, net 756
    for period in ("2026-01", "2026-02"):
        with django_capture_on_commit_callbacks(execute=True):
            started = finance_browser.post("/admin/payouts/royaltyrun/start/", {"period": period})
        assert started.status_code == 302
        run = RoyaltyRun.objects.get(period=period)
        assert run.status == RoyaltyRun.Status.COMPUTED
        if period == "2026-01":
            with django_capture_on_commit_callbacks(execute=True):
                finance_browser.post(
                    "/admin/payouts/royaltyrun/",
                    {"action": "approve", "_selected_action": [run.pk]},
                )
            run.refresh_from_db()
            assert run.status == RoyaltyRun.Status.POSTED

    page = finance_browser.get(f"/admin/payouts/royaltyrun/{run.pk}/preview/")
    assert page.status_code == 200
    # February's net 756 cents against January's 378: +378.
    row = page.context["rows"][0]
    assert row == {
        "creator": catalogue.alice.public_id,
        "currency": "eur",
        "net": "756",
        "previous": "378",
        "difference": "378",
    }
    csv_answer = finance_browser.get(
        f"/admin/payouts/royaltyrun/{run.pk}/preview/", {"format": "csv"}
    )
    rows = csv_answer.content.decode().splitlines()
    assert rows[0].startswith("creator,work,license,kind")
    assert rows[1].endswith(",per_unit,20000,0.042,840,84,756,eur")

    refused = finance_browser.post("/admin/payouts/royaltyrun/start/", {"period": "2026-01"})
    assert refused.status_code == 200
    assert "period_posted" in refused.content.decode()
    assert RoyaltyRun.objects.count() == 2


def test_non_finance_staff_sees_nothing(catalogue):
    client = Client()
    client.force_login(catalogue.alice.user)
    assert client.get("/admin/payouts/royaltyrun/").status_code in (403, 404)
    assert client.post("/admin/payouts/royaltyrun/start/", {"period": "2026-01"}).status_code in (
        302,
        403,
        404,
    )
    assert RoyaltyRun.objects.count() == 0
