"""The licensee catalogue: works with active offers, offers at a version, collections."""

from __future__ import annotations

import pytest

from licensing.models import Offer
from licensing.services.collections import collection_create
from licensing.services.works import work_reserve
from tests.licensing.conftest import flat_terms, per_unit_terms

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(alice, bob, make_work, make_offer):
    """Alice: a trainable text, an image for RAG, a reserved text, a draft-only work.
    Bob: an audio work licensable only through a pool collection."""
    trainable = make_work(alice, title="River Letters", kind="text")
    make_offer(alice, work=trainable, use="ai-train")
    rag = make_work(alice, title="Harbour at Night", kind="image")
    make_offer(alice, work=rag, use="ai-input", terms=per_unit_terms(unit="retrieval"))
    reserved = make_work(alice, title="Private Letters", kind="text")
    make_offer(alice, work=reserved, use="ai-train")
    work_reserve(work=reserved)
    draft_only = make_work(alice, title="Unfinished", kind="text")
    make_offer(alice, work=draft_only, status=Offer.Status.DRAFT)
    pooled = make_work(bob, title="Choir", kind="audio")
    box = collection_create(creator=bob, title="Box", works=[pooled])
    make_offer(bob, collection=box, terms=flat_terms(pricing="pool", amount=90_000))
    return {
        "trainable": trainable,
        "rag": rag,
        "reserved": reserved,
        "draft_only": draft_only,
        "pooled": pooled,
        "box": box,
    }


def _ids(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {work["id"] for work in response.json()["data"]}


def test_filters_select_the_right_works(catalogue, alice, bob, client_for) -> None:
    client = client_for(alice)
    ids = {name: work.public_id for name, work in catalogue.items()}

    assert _ids(client.get("/api/v1/works?use=ai-train")) == {ids["trainable"], ids["pooled"]}
    assert _ids(client.get("/api/v1/works?use=ai-input")) == {ids["rag"]}
    assert _ids(client.get("/api/v1/works?use=ai-eval")) == set()
    assert _ids(client.get("/api/v1/works?kind=image")) == {ids["rag"]}
    assert _ids(client.get(f"/api/v1/works?creator={bob.public_id}")) == {ids["pooled"]}
    assert _ids(client.get("/api/v1/works?q=letters")) == {ids["trainable"], ids["reserved"]}
    assert len(_ids(client.get("/api/v1/works"))) == 5


def test_a_reserved_work_is_listed_but_never_licensable(catalogue, alice, client_for) -> None:
    client = client_for(alice)
    reserved_id = catalogue["reserved"].public_id

    listed = {work["id"]: work for work in client.get("/api/v1/works").json()["data"]}

    assert listed[reserved_id]["reserved"] is True
    assert listed[reserved_id]["offers"] == []
    assert listed[catalogue["draft_only"].public_id]["offers"] == []
    for use in ("ai-train", "ai-finetune", "ai-input", "ai-eval"):
        assert reserved_id not in _ids(client.get(f"/api/v1/works?use={use}"))


def test_a_work_shows_its_own_and_its_collections_offers(catalogue, alice, client_for) -> None:
    client = client_for(alice)

    pooled = client.get(f"/api/v1/works/{catalogue['pooled'].public_id}").json()

    assert [(o["pricing"], o["collection"]) for o in pooled["offers"]] == [
        ("pool", catalogue["box"].public_id)
    ]
    offer_id = pooled["offers"][0]["id"]
    assert client.get(f"/api/v1/offers/{offer_id}").json() == pooled["offers"][0]


@pytest.mark.parametrize(
    ("query", "param"),
    [("use=ai-all", "use"), ("kind=poem", "kind"), ("limit=0", "limit"), ("q=" + "x" * 201, "q")],
)
def test_bad_filters_are_400(db, alice, client_for, query, param) -> None:
    response = client_for(alice).get(f"/api/v1/works?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


@pytest.mark.parametrize(
    "path", ["/api/v1/works/wrk_nope", "/api/v1/offers/off_nope", "/api/v1/collections/col_nope"]
)
def test_unknown_objects_are_404(db, alice, client_for, path) -> None:
    response = client_for(alice).get(path)
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found_error"


def test_the_catalogue_needs_a_key(catalogue, client) -> None:
    for path in ("/api/v1/works", f"/api/v1/works/{catalogue['rag'].public_id}"):
        assert client.get(path).status_code == 401


def test_the_catalogue_list_costs_a_fixed_number_of_queries(
    alice, make_work, make_offer, client_for, django_assert_max_num_queries
) -> None:
    works = [make_work(alice, kind="text") for _ in range(30)]
    for work in works:
        make_offer(alice, work=work)
        make_offer(alice, work=work, use="ai-input", terms=per_unit_terms())
    collection = collection_create(creator=alice, title="All", works=works)
    make_offer(alice, collection=collection, terms=flat_terms(pricing="pool"))
    client = client_for(alice)

    with django_assert_max_num_queries(7):
        body = client.get("/api/v1/works?limit=50&use=ai-train").json()

    assert len(body["data"]) == 30
    assert all(len(work["offers"]) == 3 for work in body["data"])
