"""Buying what you already hold (issue 13, finding 7) and the commission fixed at purchase.

Works the organisation holds under an active license for the same use are `409
already_licensed` naming that license, unless the body says `"allow_duplicate": true`
(API.md); without it, ten concurrent requests with ten different keys buy once.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from ledger.models import Entry, Transaction
from licensing.models import ApiKey, License, Purchase
from licensing.sales import SaleLine, sale_post
from licensing.services.api_keys import api_key_create
from licensing.services.creators import creator_create
from licensing.services.offers import OfferTerms, offer_create
from licensing.services.organizations import organization_create
from licensing.services.purchases import license_purchase
from licensing.services.works import work_create
from tests.licensing.licensee_fixtures import Catalogue


def buy(client: APIClient, body: dict, key: str | None = None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(
        "/api/v1/licenses", data=json.dumps(body), content_type="application/json", **headers
    )


def _written() -> tuple[int, int, int]:
    return License.objects.count(), Purchase.objects.count(), Transaction.objects.count()


def test_buying_a_held_work_again_is_409_naming_the_license(
    catalogue: Catalogue, invoice_org: Any, client_for: Any
) -> None:
    client = client_for(invoice_org)
    first = buy(client, {"offer": catalogue.flat_offer.public_id}).json()["id"]
    before = _written()

    response = buy(client, {"offer": catalogue.flat_offer.public_id})

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "already_licensed"
    assert first in error["message"]
    assert error["details"] == [
        {
            "param": "works",
            "code": "already_licensed",
            "message": catalogue.shared_work.public_id,
            "license": first,
        }
    ]
    assert _written() == before


def test_allow_duplicate_buys_again(catalogue: Catalogue, invoice_org: Any, client_for: Any):
    client = client_for(invoice_org)
    buy(client, {"offer": catalogue.flat_offer.public_id})

    response = buy(client, {"offer": catalogue.flat_offer.public_id, "allow_duplicate": True})

    assert response.status_code == 201, response.content
    assert License.objects.count() == 2


@pytest.mark.parametrize("value", ["true", 1, None, "yes"])
def test_allow_duplicate_is_a_json_boolean(
    catalogue: Catalogue, invoice_org: Any, client_for: Any, value: Any
) -> None:
    response = buy(
        client_for(invoice_org), {"offer": catalogue.flat_offer.public_id, "allow_duplicate": value}
    )

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "allow_duplicate"
    assert _written() == (0, 0, 0)


def test_a_retry_with_its_own_key_is_not_a_duplicate(
    catalogue: Catalogue, invoice_org: Any, client_for: Any
) -> None:
    client = client_for(invoice_org)
    first = buy(client, {"offer": catalogue.flat_offer.public_id}, key="k1")
    again = buy(client, {"offer": catalogue.flat_offer.public_id}, key="k1")

    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    # The service, without the idempotency layer's stored answer, finds its own row too.
    granted = license_purchase(
        organization=invoice_org,
        offer_id=catalogue.flat_offer.public_id,
        work_ids=None,
        request_key="k1",
    )
    assert granted.public_id == first.json()["id"]


def test_a_collection_purchase_names_the_held_work(
    catalogue: Catalogue, invoice_org: Any, client_for: Any
) -> None:
    client = client_for(invoice_org)
    offer = catalogue.collection_flat_offer.public_id
    held = buy(client, {"offer": offer, "works": [catalogue.solo_work.public_id]}).json()["id"]

    response = buy(
        client,
        {"offer": offer, "works": [catalogue.shared_work.public_id, catalogue.solo_work.public_id]},
    )

    assert response.status_code == 409
    details = response.json()["error"]["details"]
    assert [(item["message"], item["license"]) for item in details] == [
        (catalogue.solo_work.public_id, held)
    ]


def test_other_uses_expired_and_revoked_licenses_do_not_count(
    catalogue: Catalogue, invoice_org: Any, client_for: Any
) -> None:
    client = client_for(invoice_org)
    expired = license_purchase(
        organization=invoice_org,
        offer_id=catalogue.flat_offer.public_id,
        work_ids=None,
        at=timezone.now() - timedelta(days=400),
    )
    assert expired.ends_at < timezone.now()
    # Another use of the same work: the collection's per-work offer is for ai-finetune.
    other_use = buy(
        client,
        {
            "offer": catalogue.collection_flat_offer.public_id,
            "works": [catalogue.shared_work.public_id],
        },
    )
    assert other_use.status_code == 201
    current = buy(client, {"offer": catalogue.flat_offer.public_id})
    assert current.status_code == 201, current.content
    License.objects.filter(public_id=current.json()["id"]).update(
        status=License.Status.REVOKED, revoked_at=timezone.now()
    )
    assert buy(client, {"offer": catalogue.flat_offer.public_id}).status_code == 201


def test_another_organisations_license_does_not_count(
    catalogue: Catalogue, invoice_org: Any, client_for: Any
) -> None:
    other = organization_create(slug="other-lab", billing="invoice")
    buy(client_for(other), {"offer": catalogue.flat_offer.public_id})

    response = buy(client_for(invoice_org), {"offer": catalogue.flat_offer.public_id})
    assert response.status_code == 201


def test_a_pending_card_purchase_of_the_works_blocks_a_second_one(
    catalogue: Catalogue, card_org: Any, client_for: Any
) -> None:
    version = catalogue.flat_offer.current_version
    pending = Purchase.objects.create(
        organization=card_org,
        request_key="under-way",
        request_digest="x",
        offer_version=version,
        work_ids=[catalogue.shared_work.public_id],
        amount=1_000,
        currency="eur",
    )

    response = buy(client_for(card_org), {"offer": catalogue.flat_offer.public_id})

    assert response.status_code == 409
    assert response.json()["error"]["details"][0]["purchase"] == pending.public_id
    # A pending purchase its buyer never came back to stops blocking after a while.
    Purchase.objects.filter(pk=pending.pk).update(created_at=timezone.now() - timedelta(hours=1))
    assert buy(client_for(card_org), {"offer": catalogue.flat_offer.public_id}).status_code == 201


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_purchases_with_different_keys_buy_and_charge_once(
    stripe_sandbox_settings: Any,
) -> None:
    creator = creator_create(username="dup-racer", password=None)
    work = work_create(creator=creator, title="Raced twice", kind="text")
    offer = offer_create(
        creator=creator,
        work=work,
        use="ai-train",
        terms=OfferTerms(pricing="flat", currency="eur", amount=1_000, term_days=30),
        status="active",
    )
    organization = organization_create(
        slug="dup-race-lab", billing="card", payment_method="pm_card_visa"
    )
    _, raw_key = api_key_create(kind=ApiKey.Kind.ORGANIZATION, organization=organization)
    barrier = threading.Barrier(10)
    statuses: list[int] = []

    def racer(number: int) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
        barrier.wait()
        try:
            body = {"offer": offer.public_id}
            key = f"racer-{number}" if number % 2 else None  # some with a key, some without
            statuses.append(buy(client, body, key=key).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=racer, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [201] + [409] * 9, statuses
    assert License.objects.count() == 1
    assert Purchase.objects.count() == 1
    from payouts.stripe import gateway

    assert gateway.balance_retrieve().available["eur"] == 1_000


# --- The commission rate, fixed at purchase ---------------------------------------------


def test_the_license_keeps_the_commission_rate_of_its_purchase(
    catalogue: Catalogue, invoice_org: Any, client_for: Any, settings: Any
) -> None:
    settings.ACCORD_COMMISSION_BASIS_POINTS = 2_500
    body = buy(client_for(invoice_org), {"offer": catalogue.flat_offer.public_id}).json()
    settings.ACCORD_COMMISSION_BASIS_POINTS = 500

    granted = License.objects.get(public_id=body["id"])
    assert granted.commission_basis_points == 2_500
    assert body["commission_basis_points"] == 2_500
    commission = Entry.objects.get(account__code="platform:commission:eur")
    assert commission.amount_micros == -2_500_000  # 25% of 10.00 EUR


def test_the_sale_posting_uses_the_licenses_rate_not_the_current_setting(
    catalogue: Catalogue, settings: Any
) -> None:
    from licensing.accounts import organization_receivable

    settings.ACCORD_COMMISSION_BASIS_POINTS = 2_500
    posted = sale_post(
        license_public_id="lic_rate",
        debit=organization_receivable("org_x", "eur"),
        lines=[SaleLine(10_000_000, {catalogue.alice.public_id: 10_000})],
        currency="eur",
        commission_basis_points=500,
    )

    commission = posted.entries.get(account__code="platform:commission:eur")
    assert commission.amount_micros == -500_000
