"""Creator endpoints: `/api/v1/me/works`, `/me/offers`, `/me/collections`."""

from __future__ import annotations

from typing import Any

import pytest

from licensing.models import Collection, Offer, OfferVersion, RightsShare, Work
from licensing.services.collections import collection_create
from licensing.services.offers import offer_version_mark_licensed
from tests.licensing.conftest import flat_terms

pytestmark = pytest.mark.django_db

ISBN = "978-0-306-40615-7"


def _error(response: Any) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"type", "code", "message", "param", "details"}
    return body["error"]


def _counts() -> tuple[int, ...]:
    return (
        Work.objects.count(),
        RightsShare.objects.count(),
        Offer.objects.count(),
        OfferVersion.objects.count(),
        Collection.objects.count(),
    )


# --- Works ----------------------------------------------------------------------------


def test_a_creator_registers_and_reads_a_work(alice, client_for) -> None:
    client = client_for(alice)

    response = client.post(
        "/api/v1/me/works",
        {"title": "Songs", "kind": "audio", "identifiers": {"isbn": ISBN, "isrc": None}},
        format="json",
    )

    assert response.status_code == 201, response.content
    work = response.json()
    assert work["object"] == "work"
    assert work["id"].startswith("wrk_")
    assert work["identifiers"] == {
        "sha256": None,
        "isrc": None,
        "isbn": "9780306406157",
        "doi": None,
        "url": None,
    }
    assert work["creator"] == {"id": alice.public_id, "display_name": "Alice Atelier"}
    assert work["shares"] == [
        {"creator": {"id": alice.public_id, "display_name": "Alice Atelier"}, "basis_points": 10000}
    ]
    assert work["reserved"] is False
    assert work["offers"] == []
    assert client.get(f"/api/v1/me/works/{work['id']}").json() == work


def test_co_owners_are_set_through_the_api(alice, bob, client_for) -> None:
    client = client_for(alice)
    shares = [
        {"creator": alice.public_id, "basis_points": 7000},
        {"creator": bob.public_id, "basis_points": 3000},
    ]

    work = client.post(
        "/api/v1/me/works", {"title": "Duet", "kind": "audio", "shares": shares}, format="json"
    ).json()
    response = client.patch(
        f"/api/v1/me/works/{work['id']}",
        {"shares": [{"creator": bob.public_id, "basis_points": 10000}], "reserved": True},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert [share["basis_points"] for share in response.json()["shares"]] == [10000]
    assert response.json()["reserved"] is True


@pytest.mark.parametrize(
    ("body", "status", "code", "param"),
    [
        ({"kind": "text"}, 400, "parameter_missing", "title"),
        ({"title": "x", "kind": "poem"}, 400, "parameter_invalid", "kind"),
        ({"title": "x", "kind": "text", "identifiers": {"isbn": "12"}}, 400,
         "parameter_invalid", "identifiers.isbn"),
        ({"title": "x", "kind": "text", "identifiers": {"sha256": "zz"}}, 400,
         "parameter_invalid", "identifiers.sha256"),
        ({"title": "x", "kind": "text", "identifiers": {"isbn": ISBN}}, 409,
         "identifier_taken", "identifiers.isbn"),
        ({"title": "x", "kind": "text", "shares": [{"creator": "ALICE", "basis_points": 9000}]},
         422, "shares_total_invalid", "shares"),
        ({"title": "x", "kind": "text", "shares": [{"creator": "ALICE", "basis_points": 0}]},
         400, "parameter_invalid", "shares[0].basis_points"),
        ({"title": "x", "kind": "text",
          "shares": [{"creator": "cre_nobody", "basis_points": 10000}]},
         422, "creator_not_found", "shares[0].creator"),
    ],
)  # fmt: skip
def test_bad_works_get_a_4xx_naming_the_field_and_write_nothing(
    alice, make_work, client_for, body, status, code, param
) -> None:
    make_work(alice, identifiers={"isbn": ISBN})
    for share in body.get("shares", []):
        if share["creator"] == "ALICE":
            share["creator"] = alice.public_id
    before = _counts()

    response = client_for(alice).post("/api/v1/me/works", body, format="json")

    assert response.status_code == status, response.content
    error = _error(response)
    assert (error["code"], error["param"]) == (code, param)
    assert _counts() == before


def test_the_works_list_is_paginated_with_a_fixed_number_of_queries(
    alice, bob, make_work, make_offer, client_for, django_assert_max_num_queries
) -> None:
    for _ in range(25):
        make_offer(alice, work=make_work(alice))
    make_work(bob)
    client = client_for(alice)

    with django_assert_max_num_queries(8):
        first = client.get("/api/v1/me/works?limit=20").json()
    second = client.get(f"/api/v1/me/works?limit=20&cursor={first['next_cursor']}").json()

    assert first["object"] == "list"
    assert first["has_more"] is True
    assert (len(first["data"]), len(second["data"])) == (20, 5)
    ids = [work["id"] for work in first["data"] + second["data"]]
    assert len(set(ids)) == 25
    assert all(work["creator"]["id"] == alice.public_id for work in first["data"])


# --- Offers ---------------------------------------------------------------------------


def _offer_body(work_id: str, **overrides: Any) -> dict:
    body = {
        "work": work_id,
        "use": "ai-train",
        "pricing": "flat",
        "currency": "eur",
        "amount": 1250,
        "term_days": 365,
        "status": "active",
    }
    body.update(overrides)
    return {name: value for name, value in body.items() if value is not None}


def test_an_offer_is_versioned_once_licensed(alice, make_work, client_for) -> None:
    client = client_for(alice)
    work = make_work(alice)
    offer = client.post("/api/v1/me/offers", _offer_body(work.public_id), format="json").json()
    assert (offer["version"], offer["amount"], offer["licensed"]) == (1, 1250, False)

    # Before anyone bought it, a change corrects version 1.
    patched = client.patch(f"/api/v1/me/offers/{offer['id']}", {"amount": 1300}, format="json")
    assert (patched.json()["version"], patched.json()["amount"]) == (1, 1300)

    offer_version_mark_licensed(
        offer_version=Offer.objects.get(public_id=offer["id"]).current_version
    )
    v1 = client.get(f"/api/v1/me/offers/{offer['id']}?version=1").json()
    patched = client.patch(
        f"/api/v1/me/offers/{offer['id']}",
        {"amount": 1500, "attribution_required": True},
        format="json",
    )

    assert patched.status_code == 200, patched.content
    v2 = patched.json()
    assert (v2["id"], v2["version"], v2["amount"], v2["licensed"]) == (offer["id"], 2, 1500, False)
    assert client.get(f"/api/v1/me/offers/{offer['id']}?version=1").json() == {
        **v1,
        "current": False,
    }
    assert client.get(f"/api/v1/offers/{offer['id']}").json()["version"] == 2
    versions = client.get(f"/api/v1/me/offers/{offer['id']}/versions").json()["data"]
    assert [(v["version"], v["amount"]) for v in versions] == [(2, 1500), (1, 1300)]
    missing = client.get(f"/api/v1/me/offers/{offer['id']}?version=3")
    assert (missing.status_code, _error(missing)["code"]) == (404, "offer_version_not_found")


def test_per_unit_prices_are_decimal_strings_in_minor_units(alice, make_work, client_for) -> None:
    work = make_work(alice)
    body = _offer_body(
        work.public_id,
        use="ai-input",
        pricing="per_unit",
        amount=None,
        term_days=None,
        unit="retrieval",
        unit_amount_decimal="0.042",
        minimum_amount=500,
    )

    response = client_for(alice).post("/api/v1/me/offers", body, format="json")

    assert response.status_code == 201, response.content
    offer = response.json()
    assert (offer["unit_amount_decimal"], offer["unit"], offer["amount"]) == (
        "0.042",
        "retrieval",
        None,
    )


@pytest.mark.parametrize(
    ("overrides", "status", "code", "param"),
    [
        ({"amount": -1}, 400, "parameter_invalid", "amount"),
        ({"amount": 1_000_000_000_000}, 400, "parameter_invalid", "amount"),
        ({"currency": "xyz"}, 400, "parameter_invalid", "currency"),
        ({"currency": "EURO"}, 400, "parameter_invalid", "currency"),
        ({"pricing": "per_unit", "amount": None, "unit_amount_decimal": "0.1"}, 422,
         "offer_terms_invalid", "unit"),
        ({"pricing": "per_unit", "amount": None, "unit": "token"}, 422,
         "offer_terms_invalid", "unit_amount_decimal"),
        ({"pricing": "per_unit", "amount": None, "unit": "token",
          "unit_amount_decimal": "1234567890123"}, 400, "parameter_invalid", "unit_amount_decimal"),
        ({"pricing": "per_unit", "amount": None, "unit": "token",
          "unit_amount_decimal": "-0.5"}, 400, "parameter_invalid", "unit_amount_decimal"),
        ({"pricing": "pool"}, 422, "offer_target_invalid", "pricing"),
        ({"work": "wrk_missing"}, 404, "work_not_found", "work"),
        ({"use": "ai-everything"}, 400, "parameter_invalid", "use"),
        ({"status": "withdrawn"}, 400, "parameter_invalid", "status"),
    ],
)  # fmt: skip
def test_bad_offers_get_a_4xx_naming_the_field_and_write_nothing(
    alice, make_work, client_for, overrides, status, code, param
) -> None:
    work = make_work(alice)
    before = _counts()

    response = client_for(alice).post(
        "/api/v1/me/offers", _offer_body(work.public_id, **overrides), format="json"
    )

    assert response.status_code == status, response.content
    error = _error(response)
    assert (error["code"], error["param"]) == (code, param)
    assert _counts() == before


def test_an_offers_target_and_use_cannot_change(alice, make_work, make_offer, client_for) -> None:
    offer = make_offer(alice, work=make_work(alice))

    response = client_for(alice).patch(
        f"/api/v1/me/offers/{offer.public_id}", {"use": "ai-input"}, format="json"
    )

    assert response.status_code == 400
    assert _error(response)["param"] == "use"


def test_an_offer_for_a_reserved_work_is_refused(alice, make_work, client_for) -> None:
    work = make_work(alice, reserved=True)

    response = client_for(alice).post(
        "/api/v1/me/offers", _offer_body(work.public_id), format="json"
    )

    assert (response.status_code, _error(response)["code"]) == (422, "work_reserved")


def test_the_offers_list_has_a_fixed_number_of_queries(
    alice, make_work, make_offer, client_for, django_assert_max_num_queries
) -> None:
    for _ in range(15):
        make_offer(alice, work=make_work(alice))
    client = client_for(alice)

    with django_assert_max_num_queries(5):
        body = client.get("/api/v1/me/offers").json()

    assert len(body["data"]) == 15


# --- Collections and pool offers ------------------------------------------------------


def test_a_collection_gets_a_pool_offer(alice, make_work, client_for) -> None:
    client = client_for(alice)
    works = [make_work(alice).public_id for _ in range(3)]

    collection = client.post(
        "/api/v1/me/collections", {"title": "Box set", "works": works}, format="json"
    ).json()
    offer = client.post(
        "/api/v1/me/offers",
        {**_offer_body(None, pricing="pool", amount=50_000), "collection": collection["id"]},
        format="json",
    )

    assert offer.status_code == 201, offer.content
    assert (offer.json()["collection"], offer.json()["work"]) == (collection["id"], None)
    shown = client.get(f"/api/v1/collections/{collection['id']}").json()
    assert sorted(shown["works"]) == sorted(works)
    assert [o["pricing"] for o in shown["offers"]] == ["pool"]
    patched = client.patch(
        f"/api/v1/me/collections/{collection['id']}", {"works": works[:1]}, format="json"
    )
    assert patched.json()["works"] == works[:1]


def test_the_history_names_the_user_behind_the_key(alice, client_for) -> None:
    client = client_for(alice)
    work = client.post("/api/v1/me/works", {"title": "Logged", "kind": "text"}, format="json")

    client.patch(f"/api/v1/me/works/{work.json()['id']}", {"title": "Renamed"}, format="json")

    records = Work.history.filter(public_id=work.json()["id"]).order_by("history_id")
    assert [(r.title, r.history_user) for r in records] == [
        ("Logged", alice.user),
        ("Renamed", alice.user),
    ]


def test_the_collections_list_has_a_fixed_number_of_queries(
    alice, make_work, make_offer, client_for, django_assert_max_num_queries
) -> None:
    for index in range(12):
        collection = collection_create(
            creator=alice, title=f"Box {index}", works=[make_work(alice), make_work(alice)]
        )
        make_offer(alice, collection=collection, terms=flat_terms(pricing="pool"))
    client = client_for(alice)

    with django_assert_max_num_queries(6):
        body = client.get("/api/v1/me/collections").json()

    assert len(body["data"]) == 12
    assert all(len(c["works"]) == 2 and len(c["offers"]) == 1 for c in body["data"])
