"""Every RSL document Accord serves is valid RSL 1.0 and says what the offers say (issue 19 #1).

Documents are read with `signal_readers.rsl_read`, a parser of the RSL 1.0 vocabulary
written from the specification (no maintained one is on PyPI), never compared with
output captured once.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from licensing.demo import demo_catalogue_load
from licensing.models import Collection, Work
from licensing.services.collections import collection_create
from licensing.services.offers import OfferTerms
from licensing.services.works import work_reserve
from tests.licensing.conftest import flat_terms, per_unit_terms
from tests.licensing.signal_readers import SignalInvalid, robots_read, rsl_read

pytestmark = pytest.mark.django_db


@pytest.fixture
def public() -> APIClient:
    return APIClient()


@pytest.fixture
def catalogue(alice, make_work, make_offer):
    trained = make_work(alice, title="Harbour", identifiers={"url": "https://alice.example/h"})
    make_offer(alice, work=trained, use="ai-train", terms=flat_terms(amount=1_250))
    make_offer(
        alice,
        work=trained,
        use="ai-eval",
        terms=per_unit_terms(unit_amount_decimal=Decimal("0.042"), commercial=False),
    )
    pooled = make_work(alice, title="Pooled")
    also_pooled = make_work(alice, title="Also pooled")
    collection = collection_create(creator=alice, title="Pool", works=[pooled, also_pooled])
    # Reserved after joining: it stays in the collection, and no offer covers it.
    also_pooled = work_reserve(work=also_pooled)
    make_offer(
        alice,
        collection=collection,
        use="ai-input",
        terms=OfferTerms(pricing="pool", currency="gbp", amount=3_000, term_days=30),
    )
    reserved = make_work(alice, title="Diary", reserved=True)
    not_offered = make_work(alice, title="Sketch")
    make_offer(alice, work=not_offered, status="draft")
    return {
        "trained": trained,
        "pooled": pooled,
        "reserved_in_pool": also_pooled,
        "reserved": reserved,
        "not_offered": not_offered,
        "collection": collection,
    }


def document(public: APIClient, path: str) -> list:
    response = public.get(path)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/rsl+xml; charset=utf-8"
    return rsl_read(response.content)


def test_the_reader_refuses_what_rsl_1_0_refuses() -> None:
    """The reader is strict where the spec is: the old comma-joined list is one unknown
    token, so a 1.0 parser would drop both prohibitions."""
    head = b'<?xml version="1.0"?>\n<rsl xmlns="https://rslstandard.org/rsl"><content url="/a">'
    for body in (
        b'<license><prohibits type="usage">ai-input,ai-index</prohibits></license>',
        b"",
        b'<license><payment type="monthly"/></license>',
        b'<license><permits type="usage">ai-train</permits><permits type="usage">search'
        b"</permits></license>",
        b'<license><payment type="purchase"><amount currency="eur">1</amount></payment></license>',
        b"<license/><price/>",
    ):
        with pytest.raises(SignalInvalid):
            rsl_read(head + body + b"</content></rsl>")


def test_a_work_document_permits_each_offer_for_a_price_and_nothing_free(catalogue, public) -> None:
    (content,) = document(public, f"/works/{catalogue['trained'].public_id}/license.xml")

    assert content.url == "https://alice.example/h"
    licenses = {tuple(sorted(lic.granted_usages)): lic for lic in content.licenses}
    assert set(licenses) == {("ai-train",), ("ai-input",)}
    train, evaluate = licenses[("ai-train",)], licenses[("ai-input",)]
    assert (train.payment_type, train.amounts) == ("purchase", [("EUR", Decimal("12.50"))])
    assert (evaluate.payment_type, evaluate.amounts) == ("use", [("EUR", Decimal("0.00042"))])
    assert evaluate.prohibited_users == {"commercial"}
    # The one AI usage on offer by nobody is prohibited, read as its own token.
    assert train.prohibited_usages == evaluate.prohibited_usages == {"ai-index"}
    assert not any(lic.free for lic in content.licenses)


def test_a_pool_offer_is_a_one_time_purchase(catalogue, public) -> None:
    (content,) = document(public, f"/works/{catalogue['pooled'].public_id}/license.xml")

    (pool,) = content.licenses
    assert pool.granted_usages == {"ai-input"}
    assert (pool.payment_type, pool.amounts) == ("purchase", [("GBP", Decimal("30.00"))])


@pytest.mark.parametrize("name", ["reserved", "not_offered", "reserved_in_pool"])
def test_a_work_without_offers_grants_nothing_not_even_non_ai_uses(catalogue, public, name) -> None:
    (content,) = document(public, f"/works/{catalogue[name].public_id}/license.xml")

    (only,) = content.licenses
    assert only.granted_usages == set()  # `prohibits all`: search included, nothing free
    assert only.prohibited_usages == {"ai-train", "ai-input", "ai-index", "search"}


def test_a_collection_has_its_own_document_with_each_work_as_in_its_own(catalogue, public) -> None:
    collection = catalogue["collection"]

    contents = document(public, f"/collections/{collection.public_id}/license.xml")

    own = {
        work.public_id: document(public, f"/works/{work.public_id}/license.xml")[0]
        for work in (catalogue["pooled"], catalogue["reserved_in_pool"])
    }
    assert sorted(content.url for content in contents) == sorted(c.url for c in own.values())
    for content in contents:
        (same,) = [c for c in own.values() if c.url == content.url]
        assert content.licenses == same.licenses
    assert public.get("/collections/col_nope/license.xml").json()["error"]["code"] == (
        "collection_not_found"
    )


def test_an_empty_collection_document_is_still_valid_and_grants_nothing(alice, public) -> None:
    empty = collection_create(creator=alice, title="Nothing yet")

    (content,) = document(public, f"/collections/{empty.public_id}/license.xml")

    assert content.licenses[0].granted_usages == set()


def test_robots_txt_names_the_site_documents_which_cover_every_work_page(
    catalogue, public, settings
) -> None:
    settings.ACCORD_PUBLIC_BASE_URL = "https://accord.example"
    response = public.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"

    robots = robots_read(response.content.decode())

    assert robots.licenses == ["https://accord.example/license.xml?page=1"]
    covered = {}
    for url in robots.licenses:
        for content in document(public, url.removeprefix("https://accord.example")):
            covered[content.url] = content
    assert set(covered) == {f"/works/{work.public_id}$" for work in Work.objects.all()}
    for work in Work.objects.all():
        (own,) = document(public, f"/works/{work.public_id}/license.xml")
        assert covered[f"/works/{work.public_id}$"].licenses == own.licenses


def test_the_site_document_is_paged(catalogue, public, settings, monkeypatch) -> None:
    monkeypatch.setattr("licensing.robots.SITE_LICENSE_PAGE_WORKS", 2)
    monkeypatch.setattr("licensing.api.views_signals.SITE_LICENSE_PAGE_WORKS", 2)

    robots = robots_read(public.get("/robots.txt").content.decode())
    pages = [document(public, url.removeprefix("http://testserver")) for url in robots.licenses]

    assert len(robots.licenses) == 3  # five works, two a page
    assert sum(len(page) for page in pages) == Work.objects.count()
    for bad in ("0", "4", "x", "\uff11"):  # the last: a fullwidth digit one
        response = public.get(f"/license.xml?page={bad}")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "parameter_invalid"


def test_every_document_of_the_demo_catalogue_is_valid_rsl(public, settings) -> None:
    settings.ACCORD_RATE_LIMITS = {**settings.ACCORD_RATE_LIMITS, "public": "100000/min"}
    demo_catalogue_load()
    paths = [f"/works/{work.public_id}/license.xml" for work in Work.objects.all()]
    paths += [f"/collections/{c.public_id}/license.xml" for c in Collection.objects.all()]
    paths += [
        url.removeprefix("http://testserver")
        for url in robots_read(public.get("/robots.txt").content.decode()).licenses
    ]

    for path in paths:
        for content in document(public, path):
            assert not any(lic.free_usages for lic in content.licenses), path
