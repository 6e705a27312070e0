"""The clearance endpoints: bodies as API.md says, errors as 4xx, tenancy, one purchase."""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from licensing.models import Clearance, ClearanceItem, License, LicenseeOrganization, Purchase
from licensing.services.organizations import organization_create
from licensing.services.purchases import license_purchase
from tests.licensing.clearance_catalogue import (
    USE,
    ClearanceCatalogue,
    clearance_catalogue,
    mixed_manifest,
)

pytestmark = pytest.mark.django_db
Client = Callable[[LicenseeOrganization], APIClient]


@pytest.fixture
def catalogue(db: Any) -> ClearanceCatalogue:
    return clearance_catalogue()


def _create(client: APIClient, catalogue: ClearanceCatalogue) -> dict[str, Any]:
    response = client.post(
        "/api/v1/clearances", {"use": USE, "items": mixed_manifest(catalogue)}, format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_create_answers_the_clearance_object(
    catalogue: ClearanceCatalogue, invoice_org: LicenseeOrganization, client_for: Client
) -> None:
    license_purchase(
        organization=invoice_org, offer_id=catalogue.held_offer.public_id, work_ids=None
    )

    body = _create(client_for(invoice_org), catalogue)

    assert body["object"] == "clearance"
    assert body["id"].startswith("clr_")
    assert (body["use"], body["status"]) == (USE, "ready")
    assert body["counts"] == {"licensable": 6, "licensed": 1, "reserved": 3, "unknown": 2}
    assert body["quote"] == {"amount": 4_600, "currency": "eur", "works": 5, "offers": 4}
    assert len(body["manifest_sha256"]) == 64
    assert body["expires_at"] > body["created_at"]


def test_items_are_a_cursor_list_filterable_by_status(
    catalogue: ClearanceCatalogue, invoice_org: LicenseeOrganization, client_for: Client
) -> None:
    client = client_for(invoice_org)
    clearance = _create(client, catalogue)
    url = f"/api/v1/clearances/{clearance['id']}/items"

    first = client.get(url, {"limit": 5}).json()
    second = client.get(url, {"limit": 5, "cursor": first["next_cursor"]}).json()
    third = client.get(url, {"limit": 5, "cursor": second["next_cursor"]}).json()
    reserved = client.get(url, {"status": "reserved"}).json()

    seen = [item["identifier"] for page in (first, second, third) for item in page["data"]]
    assert len(seen) == 12
    assert seen == sorted(seen)
    assert third["has_more"] is False
    assert {item["status"] for item in reserved["data"]} == {"reserved"}
    assert len(reserved["data"]) == 3
    isbn = next(
        item
        for item in seen_items(first, second, third)
        if item["identifier"] == "isbn:9780306406157"
    )
    assert isbn == {
        "object": "clearance_item",
        "identifier": "isbn:9780306406157",
        "status": "licensable",
        "reason": None,
        "work": catalogue.by_isbn.public_id,
        "offer": catalogue.isbn_cheap.public_id,
        "amount": 600,
        "license": None,
    }
    assert client.get(url, {"status": "maybe"}).status_code == 400
    # Each status lists as many as the clearance counted, none ("licensed" here) included.
    assert clearance["counts"]["licensed"] == 0
    for status, count in clearance["counts"].items():
        listed = client.get(url, {"status": status, "limit": 100}).json()
        assert (len(listed["data"]), listed["has_more"]) == (count, False), status


def seen_items(*pages: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for page in pages for item in page["data"]]


def test_items_csv_has_every_item(
    catalogue: ClearanceCatalogue, invoice_org: LicenseeOrganization, client_for: Client
) -> None:
    client = client_for(invoice_org)
    clearance = _create(client, catalogue)

    response = client.get(f"/api/v1/clearances/{clearance['id']}/items.csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 12
    assert {row["status"] for row in rows} == {"licensable", "reserved", "unknown"}
    assert rows[0].keys() == {
        "identifier",
        "status",
        "reason",
        "work",
        "offer",
        "amount",
        "license",
    }


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"use": USE, "items": []}, 400, "parameter_invalid"),
        ({"use": USE, "items": ["sha256:" + "a" * 64] * 100_001}, 400, "parameter_invalid"),
        ({"use": "ai-dance", "items": ["sha256:" + "a" * 64]}, 400, "parameter_invalid"),
        ({"use": USE}, 400, "parameter_invalid"),
        ({"use": USE, "items": ["sha256:" + "a" * 64, "isbn:1", None]}, 422, "identifiers_invalid"),
    ],
)
def test_bad_input_is_4xx_with_the_error_body_and_writes_nothing(
    invoice_org: LicenseeOrganization,
    client_for: Client,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    response = client_for(invoice_org).post("/api/v1/clearances", body, format="json")

    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code
    if code == "identifiers_invalid":
        assert [(d["index"], d["code"]) for d in error["details"]] == [
            (1, "identifier_invalid"),
            (2, "identifier_invalid"),
        ]
    assert not Clearance.objects.exists()


def test_another_organisations_clearance_is_404_everywhere(
    catalogue: ClearanceCatalogue,
    invoice_org: LicenseeOrganization,
    client_for: Client,
) -> None:
    clearance = _create(client_for(invoice_org), catalogue)
    intruder = client_for(organization_create(slug="intruder", name="Intruder"))
    base = f"/api/v1/clearances/{clearance['id']}"

    answers = [
        intruder.get(base),
        intruder.get(f"{base}/items"),
        intruder.get(f"{base}/items.csv"),
        intruder.get(f"{base}/certificate"),
        intruder.post(f"{base}/purchase"),
    ]

    assert [answer.status_code for answer in answers] == [404] * 5
    assert {answer.json()["error"]["code"] for answer in answers} == {"clearance_not_found"}
    assert not License.objects.exists()


def test_purchase_then_certificate_over_http(
    catalogue: ClearanceCatalogue, invoice_org: LicenseeOrganization, client_for: Client
) -> None:
    client = client_for(invoice_org)
    clearance = _create(client, catalogue)
    base = f"/api/v1/clearances/{clearance['id']}"
    assert client.get(f"{base}/certificate").status_code == 409

    first = client.post(f"{base}/purchase")
    again = client.post(f"{base}/purchase")
    certificate = client.get(f"{base}/certificate").json()

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert first.json()["object"] == "clearance_purchase"
    # Nothing held before: the held work's 5.00 offer is bought too.
    assert (first.json()["amount"], first.json()["currency"]) == (5_100, "eur")
    assert len(first.json()["licenses"]) == 5
    assert certificate["object"] == "clearance_certificate"
    assert certificate["manifest_sha256"] == clearance["manifest_sha256"]
    assert certificate["keys_url"].endswith("/.well-known/accord-keys.json")


def test_declined_card_is_402_over_http(
    catalogue: ClearanceCatalogue, declining_org: LicenseeOrganization, client_for: Client
) -> None:
    client = client_for(declining_org)
    clearance = _create(client, catalogue)

    response = client.post(f"/api/v1/clearances/{clearance['id']}/purchase")

    assert response.status_code == 402
    assert response.json()["error"]["code"] == "payment_failed"
    assert not License.objects.exists()


def _purchase_concurrently(client: APIClient, clearance_id: str) -> list[Any]:
    answers: list[Any] = []
    barrier = threading.Barrier(2)

    def buy() -> None:
        try:
            barrier.wait()
            answers.append(client.post(f"/api/v1/clearances/{clearance_id}/purchase"))
        finally:
            connection.close()

    threads = [threading.Thread(target=buy) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("billing", ["invoice_org", "card_org"])
def test_two_concurrent_purchases_buy_once(
    catalogue: ClearanceCatalogue,
    client_for: Client,
    billing: str,
    request: pytest.FixtureRequest,
) -> None:
    organization = request.getfixturevalue(billing)
    client = client_for(organization)
    clearance = _create(client, catalogue)

    answers = _purchase_concurrently(client, clearance["id"])

    succeeded = [answer.json() for answer in answers if answer.status_code == 201]
    assert succeeded, [answer.json() for answer in answers]
    assert all(body == succeeded[0] for body in succeeded)
    # A loser may only be told to retry (the card provider saw the same key at once).
    assert {answer.status_code for answer in answers} <= {201, 503}
    assert License.objects.filter(organization=organization).count() == 5
    assert Purchase.objects.filter(organization=organization).count() == 5
    assert (
        len({p.payment_intent_id for p in Purchase.objects.filter(organization=organization)}) == 1
    )
    assert ClearanceItem.objects.filter(status="licensable", license__isnull=True).count() == 0
