"""The finance API of royalty runs and the books: shapes, codes, denials, nothing written."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from licensing.models import ApiKey
from licensing.services.api_keys import api_key_create
from licensing.services.creators import finance_user_create
from payouts.models import RoyaltyApproval, RoyaltyLine, RoyaltyRun
from tests.payouts.royalty_fixtures import FakeUsage, buy

pytestmark = pytest.mark.django_db


def finance_client(username: str) -> APIClient:
    user = finance_user_create(username=username)
    _, raw = api_key_create(kind=ApiKey.Kind.FINANCE, user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def declared(catalogue, invoice_org, monkeypatch):
    usage = FakeUsage(monkeypatch)
    license = buy(
        monkeypatch,
        organization=invoice_org,
        offer=catalogue.per_unit_offer,
        at=datetime(2026, 1, 5, tzinfo=UTC),
    )
    usage.declare("2026-01", license, catalogue.solo_work, 7)  # 0.294 cents = 2,940 micros
    return license


def test_start_preview_approve_post_over_http(
    declared, catalogue, django_capture_on_commit_callbacks
):
    finance = finance_client("fin")
    with django_capture_on_commit_callbacks(execute=True):
        started = finance.post("/api/v1/royalty-runs", {"period": "2026-01"}, format="json")
    assert started.status_code == 202, started.json()
    run_id = started.json()["id"]
    assert run_id.startswith("rr_")

    run = finance.get(f"/api/v1/royalty-runs/{run_id}").json()
    assert run["status"] == "computed"
    # 2,940 micros = 0.294 cents; commission 294 micros = 0.0294; net 0.2646.
    assert run["totals"] == [
        {
            "currency": "eur",
            "gross_decimal": "0.294",
            "commission_decimal": "0.0294",
            "net_decimal": "0.2646",
            "lines": 1,
        }
    ]
    lines = finance.get(f"/api/v1/royalty-runs/{run_id}/lines").json()
    assert lines["object"] == "list"
    assert lines["data"] == [
        {
            "object": "royalty_line",
            "creator": catalogue.alice.public_id,
            "work": catalogue.solo_work.public_id,
            "license": declared.public_id,
            "kind": "per_unit",
            "units": 7,
            "unit_amount_decimal": "0.042",
            "gross_decimal": "0.294",
            "commission_decimal": "0.0294",
            "net_decimal": "0.2646",
            "currency": "eur",
        }
    ]
    filtered = finance.get(
        f"/api/v1/royalty-runs/{run_id}/lines", {"creator": catalogue.bob.public_id}
    )
    assert filtered.json()["data"] == []

    with django_capture_on_commit_callbacks(execute=True):
        approved = finance.post(f"/api/v1/royalty-runs/{run_id}/approve")
    assert approved.status_code == 200
    assert finance.get(f"/api/v1/royalty-runs/{run_id}").json()["status"] == "posted"

    again = finance.post(f"/api/v1/royalty-runs/{run_id}/approve")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "royalty_run_not_computed"
    second = finance.post("/api/v1/royalty-runs", {"period": "2026-01"}, format="json")
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "period_posted"

    books = finance.get("/api/v1/ledger/trial-balance").json()
    assert books["object"] == "trial_balance"
    assert all(currency["balanced"] for currency in books["currencies"])
    payable = f"creator:{catalogue.alice.public_id}:payable:eur"
    assert {
        "id": payable,
        "code": payable,
        "kind": "liability",
        "currency": "eur",
        "balance_decimal": "-0.2646",
    } in books["accounts"]
    entries = finance.get(f"/api/v1/ledger/accounts/{payable}/entries").json()
    assert [(e["transaction"], e["amount_decimal"], e["kind"]) for e in entries["data"]] == [
        (f"royalty:{run_id}:{declared.public_id}", "-0.2646", "royalty")
    ]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"period": "2026-1"}, 400, "period_invalid"),
        ({"period": "2999-01"}, 422, "period_open"),
        ({}, 400, "parameter_missing"),
    ],
)
def test_bad_periods_are_refused_and_write_nothing(declared, body, status, code):
    answer = finance_client("fin").post("/api/v1/royalty-runs", body, format="json")
    assert answer.status_code == status
    assert answer.json()["error"]["code"] == code
    assert RoyaltyRun.objects.count() == 0


def test_same_user_twice_needs_a_second_approver(
    declared, settings, django_capture_on_commit_callbacks
):
    settings.ROYALTY_SECOND_APPROVAL_ABOVE = {"eur": 0}
    finance = finance_client("fin")
    with django_capture_on_commit_callbacks(execute=True):
        run_id = finance.post("/api/v1/royalty-runs", {"period": "2026-01"}, format="json").json()[
            "id"
        ]
    assert finance.post(f"/api/v1/royalty-runs/{run_id}/approve").json()["status"] == "computed"
    twice = finance.post(f"/api/v1/royalty-runs/{run_id}/approve")
    assert twice.status_code == 409
    assert twice.json()["error"]["code"] == "second_approver_required"
    assert RoyaltyApproval.objects.count() == 1


def test_other_keys_get_404_and_no_key_401(declared, invoice_org, client_for, catalogue):
    licensee = client_for(invoice_org)
    _, raw = api_key_create(kind=ApiKey.Kind.CREATOR, creator=catalogue.alice)
    creator = APIClient()
    creator.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    for client in (licensee, creator):
        for path in ("/api/v1/royalty-runs", "/api/v1/ledger/trial-balance"):
            assert client.get(path).status_code == 404
        refused = client.post("/api/v1/royalty-runs", {"period": "2026-01"}, format="json")
        assert refused.status_code == 404
    assert APIClient().get("/api/v1/royalty-runs").status_code == 401
    assert RoyaltyRun.objects.count() == 0
    assert RoyaltyLine.objects.count() == 0
    assert finance_client("fin").get("/api/v1/royalty-runs/rr_nope").status_code == 404
