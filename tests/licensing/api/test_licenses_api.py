"""The licensee endpoints over HTTP: buying, reading, tenancy, keys, idempotency."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from ledger.models import Transaction
from licensing.models import ApiKey, License, Purchase
from licensing.services.api_keys import api_key_create, api_key_revoke
from licensing.services.creators import creator_create
from licensing.services.offers import OfferTerms, offer_create
from licensing.services.organizations import organization_create
from licensing.services.works import work_create
from tests.licensing.licensee_fixtures import Catalogue

pytestmark = pytest.mark.django_db


def buy(client: APIClient, body: dict, key: str | None = None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(
        "/api/v1/licenses", data=json.dumps(body), content_type="application/json", **headers
    )


def test_buying_answers_201_with_the_license(catalogue: Catalogue, invoice_org, client_for) -> None:
    response = buy(client_for(invoice_org), {"offer": catalogue.flat_offer.public_id})

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["object"] == "license"
    assert body["id"].startswith("lic_")
    assert body["status"] == "active"
    assert body["licensee"] == invoice_org.public_id
    assert body["works"] == [catalogue.shared_work.public_id]
    assert (body["amount"], body["currency"]) == (1_000, "eur")
    assert body["offer"]["id"] == catalogue.flat_offer.public_id
    assert body["offer"]["version"] == 1
    assert body["offer"]["amount"] == 1_000
    assert response["Location"] == f"/api/v1/licenses/{body['id']}"


@pytest.mark.parametrize("offer_name", ["collection_flat_offer", "pool_offer"])
def test_the_purchase_answer_lists_the_works_as_a_later_read_does(
    catalogue: Catalogue, invoice_org, client_for, offer_name: str
) -> None:
    client = client_for(invoice_org)
    body = {"offer": getattr(catalogue, offer_name).public_id}
    if offer_name == "collection_flat_offer":
        # Asked oldest first; the API lists a license's works newest first.
        body["works"] = [catalogue.solo_work.public_id, catalogue.shared_work.public_id]

    bought = buy(client, body).json()

    newest_first = [catalogue.shared_work.public_id, catalogue.solo_work.public_id]
    assert bought["works"] == newest_first
    assert client.get(f"/api/v1/licenses/{bought['id']}").json()["works"] == newest_first
    assert client.get("/api/v1/licenses").json()["data"][0]["works"] == newest_first


def test_card_declined_is_402_payment_failed(
    catalogue: Catalogue, declining_org, client_for
) -> None:
    response = buy(client_for(declining_org), {"offer": catalogue.flat_offer.public_id})

    assert response.status_code == 402
    assert response.json()["error"]["code"] == "payment_failed"
    assert not License.objects.exists()
    assert not Transaction.objects.exists()


def test_list_and_read_only_your_own(
    catalogue: Catalogue, invoice_org, client_for, django_assert_max_num_queries
) -> None:
    other = organization_create(slug="other-lab", billing="invoice")
    mine, theirs = client_for(invoice_org), client_for(other)
    for _ in range(3):
        buy(mine, {"offer": catalogue.per_unit_offer.public_id, "allow_duplicate": True})
    their_license = buy(theirs, {"offer": catalogue.per_unit_offer.public_id}).json()["id"]

    with django_assert_max_num_queries(12):
        listed = mine.get("/api/v1/licenses").json()

    assert len(listed["data"]) == 3
    assert their_license not in [item["id"] for item in listed["data"]]
    for path in (
        f"/api/v1/licenses/{their_license}",
        f"/api/v1/licenses/{their_license}/certificate",
    ):
        response = mine.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "license_not_found"


def test_only_licensee_keys_may_buy(catalogue: Catalogue) -> None:
    _, creator_key = api_key_create(kind=ApiKey.Kind.CREATOR, creator=catalogue.alice)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {creator_key}")

    response = buy(client, {"offer": catalogue.flat_offer.public_id})

    assert response.status_code == 403
    assert client.get("/api/v1/licenses").status_code == 403
    assert not License.objects.exists()


def test_a_revoked_key_is_401(catalogue: Catalogue, invoice_org) -> None:
    api_key, raw_key = api_key_create(kind=ApiKey.Kind.ORGANIZATION, organization=invoice_org)
    api_key_revoke(api_key=api_key)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")

    response = buy(client, {"offer": catalogue.flat_offer.public_id})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "parameter_missing"),
        ({"offer": 12}, 400, "parameter_invalid"),
        ({"offer": "off_nope"}, 404, "offer_not_found"),
    ],
)
def test_bad_bodies(
    catalogue: Catalogue, invoice_org, client_for, body: dict, status: int, code: str
) -> None:
    response = buy(client_for(invoice_org), body)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert not License.objects.exists()


def test_same_idempotency_key_twice_buys_once(catalogue: Catalogue, card_org, client_for) -> None:
    client = client_for(card_org)
    first = buy(client, {"offer": catalogue.flat_offer.public_id}, key="buy-once")
    second = buy(client, {"offer": catalogue.flat_offer.public_id}, key="buy-once")

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert License.objects.count() == 1
    assert Purchase.objects.count() == 1


def test_certificate_endpoint_returns_the_signed_license(
    catalogue: Catalogue, invoice_org, client_for
) -> None:
    from joserfc import jws
    from joserfc.jwk import KeySet

    client = client_for(invoice_org)
    license_id = buy(client, {"offer": catalogue.flat_offer.public_id}).json()["id"]

    body = client.get(f"/api/v1/licenses/{license_id}/certificate").json()
    jwks = APIClient().get("/.well-known/accord-keys.json").json()
    verified = jws.deserialize_compact(
        body["certificate"], KeySet.import_key_set(jwks), algorithms=["EdDSA"]
    )
    statement = json.loads(verified.payload)

    assert body["object"] == "license_certificate"
    assert statement["license"] == license_id
    assert statement["licensee"]["id"] == invoice_org.public_id
    assert statement["use"] == "ai-train"
    assert statement["works"] == [
        {"id": catalogue.shared_work.public_id, "title": "Shared", "sha256": None}
    ]
    assert statement["terms"]["version"] == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_purchases_with_one_key_buy_once(stripe_sandbox_settings) -> None:
    from tests.licensing.licensee_fixtures import Catalogue  # noqa: F401 - the fixture is built inline below

    catalogue_offer = _catalogue_for_race()
    organization = organization_create(
        slug="race-lab", billing="card", payment_method="pm_card_visa"
    )
    _, raw_key = api_key_create(kind=ApiKey.Kind.ORGANIZATION, organization=organization)
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def racer() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
        barrier.wait()
        try:
            statuses.append(buy(client, {"offer": catalogue_offer}, key="raced").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=racer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(set(statuses)) <= [201, 409], statuses
    assert 201 in statuses
    assert License.objects.count() == 1
    assert Purchase.objects.count() == 1
    from payouts.stripe import gateway

    assert gateway.balance_retrieve().available["eur"] == 1_000


def _catalogue_for_race() -> str:
    creator = creator_create(username="racer", password=None)
    work = work_create(creator=creator, title="Raced", kind="text")
    offer = offer_create(
        creator=creator,
        work=work,
        use="ai-train",
        terms=OfferTerms(pricing="flat", currency="eur", amount=1_000, term_days=30),
        status="active",
    )
    return offer.public_id


def test_each_licensee_key_is_rate_limited_on_its_own(
    catalogue: Catalogue, invoice_org, client_for, settings, one_rate_window
) -> None:
    settings.ACCORD_RATE_LIMITS = {**settings.ACCORD_RATE_LIMITS, "default": "2/min"}
    busy, other = client_for(invoice_org), client_for(invoice_org)

    statuses = [busy.get("/api/v1/licenses").status_code for _ in range(3)]
    limited = busy.get("/api/v1/licenses")

    assert statuses == [200, 200, 429]
    assert limited.json()["error"]["code"] == "rate_limited"
    assert int(limited["Retry-After"]) >= 1
    assert other.get("/api/v1/licenses").status_code == 200


SQLITE_POSTING_EXTRA = 3


def test_a_card_purchase_runs_thirteen_statements_on_postgresql(
    catalogue: Catalogue,
    card_org,
    client_for,
    django_assert_max_num_queries,
    django_capture_on_commit_callbacks,
) -> None:
    client = client_for(card_org)
    # Opens the accounts and the signing key; its commit lets this process cache them,
    # as a server's does after its first sale (ledger.account_cache, certificates.keys).
    with django_capture_on_commit_callbacks(execute=True):
        buy(client, {"offer": catalogue.flat_offer.public_id}, key="first")
    again = {"offer": catalogue.flat_offer.public_id, "allow_duplicate": True}

    # Key, idempotency claim, offer with its owners, purchase row; the grant's
    # transaction (its BEGIN, the claim of the paid purchase, posting in a savepoint,
    # license, its work, COMMIT); the stored answer: 13 (the accounts and the current
    # signing key come from the process's caches; they were 15 before). An N+1
    # or a read-back would show here. The test runs inside a transaction, where the
    # claim's and the purchase row's lone INSERTs each take a savepoint (two statements more each).
    # A duplicate is allowed, so the duplicate check (its lock and two reads) is left out.
    # SQLite: the ledger first takes the write lock with a no-op UPDATE (ledger/posting.py)
    # and posts without PostgreSQL's batched statements: 22 measured, 3 more.
    extra = 0 if connection.vendor == "postgresql" else SQLITE_POSTING_EXTRA
    with django_assert_max_num_queries(13 + 4 + extra):
        response = buy(client, again, key="second")

    assert response.status_code == 201
