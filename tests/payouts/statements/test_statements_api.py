"""Statements and earnings over HTTP: one selector behind JSON, CSV and PDF; scoping."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from ledger.display import money_from_micros
from ledger.models import Transaction
from licensing.models import ApiKey
from licensing.services.api_keys import api_key_create
from tests.factories import CreatorFactory

pytestmark = pytest.mark.django_db


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def _micros(decimal_text: str) -> int:
    # An exact minor-unit decimal ("6000.0342") as micros of EUR (10,000 a cent).
    whole, _, fraction = decimal_text.partition(".")
    sign = -1 if whole.startswith("-") else 1
    return sign * (abs(int(whole)) * 10_000 + int((fraction + "0000")[:4] or 0))


def test_json_csv_and_pdf_show_the_same_totals(catalogue, history, creator_client_for):
    client = creator_client_for(catalogue.alice)

    listed = client.get("/api/v1/me/statements", {"period": "2026-01"})
    assert listed.status_code == 200, listed.content
    (statement,) = listed.json()["data"]
    assert statement["object"] == "statement"
    assert statement["id"] == f"stm_{catalogue.alice.public_id}_2026-01_eur"
    assert statement["status"] == "final"
    assert statement["opening_balance"] == 0
    assert statement["closing_balance_decimal"] == "38400.0678"
    assert statement["closing_balance"] == 38400
    assert statement["earned_decimal"] == "38400.0678"
    assert statement["paid"] == 0
    assert statement["commission_basis_points"] == 1000
    assert [line["kind"] for line in statement["lines"]] == ["sale", "per_unit"]
    assert statement["lines"][0] == {
        "kind": "sale",
        "work": catalogue.shared_work.public_id,
        "work_title": "Shared",
        "licensee": statement["lines"][0]["licensee"],
        "licensee_name": "Invoice Lab",
        "license": statement["lines"][0]["license"],
        "use": "ai-train",
        "units": 1,
        "unit_amount_decimal": "1000",
        "gross_decimal": "666.7",
        "commission_decimal": "66.67",
        "net_decimal": "600.03",
    }
    assert client.get(f"/api/v1/me/statements/{statement['id']}").json() == statement

    as_csv = client.get(f"/api/v1/me/statements/{statement['id']}.csv")
    assert as_csv.status_code == 200
    assert as_csv["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(as_csv.content.decode())))
    by_kind = {row[0]: row for row in rows[1:]}
    assert by_kind["closing_balance"][-1] == statement["closing_balance_decimal"]
    assert by_kind["opening_balance"][-1] == statement["opening_balance_decimal"]
    assert by_kind["earned"][-1] == statement["earned_decimal"]
    assert by_kind["total"][-3:] == [
        statement["totals"]["gross_decimal"],
        statement["totals"]["commission_decimal"],
        statement["totals"]["net_decimal"],
    ]
    assert [row[-1] for row in rows[1:3]] == [line["net_decimal"] for line in statement["lines"]]

    as_pdf = client.get(f"/api/v1/me/statements/{statement['id']}.pdf")
    assert as_pdf.status_code == 200
    assert as_pdf["Content-Type"] == "application/pdf"
    text = _pdf_text(as_pdf.content)
    closing = money_from_micros(_micros(statement["closing_balance_decimal"]), "eur")
    assert closing == "€384.000678"
    words = " ".join(text.split())
    assert f"Closing balance {closing}" in words
    assert f"Opening balance {money_from_micros(0, 'eur')}" in words
    for line in statement["lines"]:
        assert money_from_micros(_micros(line["net_decimal"]), "eur") in text
    assert "10.00% (1000 bp)" in text
    assert statement["id"] in text


def test_another_creators_statement_is_not_found(catalogue, history, creator_client_for):
    bob_id = f"stm_{catalogue.bob.public_id}_2026-01_eur"
    client = creator_client_for(catalogue.alice)
    before = Transaction.objects.count()

    for suffix in ("", ".csv", ".pdf"):
        response = client.get(f"/api/v1/me/statements/{bob_id}{suffix}")
        assert response.status_code == 404, response.content
        assert response.json()["error"]["code"] == "statement_not_found"
    for malformed in ("stm_x", f"stm_{catalogue.alice.public_id}_2026-13_eur", "nothing"):
        assert client.get(f"/api/v1/me/statements/{malformed}").status_code == 404
    assert Transaction.objects.count() == before


def test_empty_period_is_an_empty_statement_with_its_balances(
    catalogue, history, creator_client_for
):
    client = creator_client_for(catalogue.alice)

    response = client.get("/api/v1/me/statements", {"period": "2026-03"})

    (statement,) = response.json()["data"]
    assert statement["lines"] == []
    assert (
        statement["opening_balance_decimal"] == statement["closing_balance_decimal"] == "38400.0678"
    )
    assert statement["earned"] == statement["paid"] == 0
    assert statement["status"] == "open"


def test_a_creator_with_no_money_yet_gets_zero_statements(creator_client_for):
    client = creator_client_for(CreatorFactory(username="newcomer"))

    (statement,) = client.get("/api/v1/me/statements", {"period": "2026-03"}).json()["data"]

    assert (statement["currency"], statement["closing_balance"], statement["lines"]) == (
        "eur",
        0,
        [],
    )


@pytest.mark.parametrize("period", ["2026-1", "2026-13", "26-01", "1999-12", "x", ""])
def test_malformed_period_is_400(catalogue, creator_client_for, period):
    response = creator_client_for(catalogue.alice).get("/api/v1/me/statements", {"period": period})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "period_invalid"


def test_statements_need_a_creator_key(catalogue, invoice_org):
    from rest_framework.test import APIClient

    _, raw = api_key_create(kind=ApiKey.Kind.ORGANIZATION, organization=invoice_org)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert client.get("/api/v1/me/statements").status_code == 403
    assert APIClient().get("/api/v1/me/earnings").status_code == 401


def test_earnings_by_month_work_and_licensee(catalogue, history, creator_client_for, monkeypatch):
    client = creator_client_for(catalogue.alice)

    response = client.get("/api/v1/me/earnings", {"months": "12"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["object"] == "earnings"
    assert body["currency"] == "eur"
    assert len(body["months"]) == 12
    now = datetime.now(UTC)
    assert body["months"][-1]["period"] == f"{now:%Y-%m}"
    january = next((m for m in body["months"] if m["period"] == "2026-01"), None)
    if january is None:  # the clock is more than 11 months past January 2026
        january = client.get("/api/v1/me/earnings", {"months": "36"}).json()["months"]
        january = next(m for m in january if m["period"] == "2026-01")
    assert january["net_decimal"] == "38400.0678"
    assert {part["work"]: part["net_decimal"] for part in january["by_work"]} == {
        catalogue.solo_work.public_id: "37800.0378",
        catalogue.shared_work.public_id: "600.03",
    }
    (licensee,) = january["by_licensee"]
    assert (licensee["name"], licensee["net_decimal"]) == ("Invoice Lab", "38400.0678")


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ({"months": "0"}, "months"),
        ({"months": "x"}, "months"),
        ({"months": "37"}, "months"),
        ({"currency": "gbp"}, "currency"),
    ],
)
def test_earnings_bad_input_is_400(catalogue, creator_client_for, query, param):
    response = creator_client_for(catalogue.alice).get("/api/v1/me/earnings", query)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parameter_invalid"
    assert response.json()["error"]["param"] == param
