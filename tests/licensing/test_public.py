"""Public signals: the registry, RSL, TDMRep and Content-Usage, cached and rate limited."""

from __future__ import annotations

from decimal import Decimal
from xml.etree import ElementTree

import pytest
from rest_framework.test import APIClient

from licensing.rsl import RSL_NAMESPACE
from licensing.services.works import work_reserve, work_update
from tests.licensing.conftest import flat_terms, per_unit_terms

pytestmark = pytest.mark.django_db

NS = {"rsl": RSL_NAMESPACE}
SHA_LICENSABLE = "1" * 64
SHA_RESERVED = "2" * 64
SHA_NOT_OFFERED = "3" * 64


@pytest.fixture
def public() -> APIClient:
    return APIClient()


@pytest.fixture
def works(alice, make_work, make_offer):
    licensable = make_work(
        alice,
        title="Harbour",
        kind="image",
        identifiers={
            "sha256": SHA_LICENSABLE,
            "url": "https://alice.example/harbour",
            "isrc": "USRC17607839",
        },
    )
    make_offer(alice, work=licensable, use="ai-train", terms=flat_terms(amount=1_250))
    make_offer(
        alice,
        work=licensable,
        use="ai-input",
        terms=per_unit_terms(
            unit="retrieval", unit_amount_decimal=Decimal("0.042"), commercial=False
        ),
    )
    reserved = make_work(
        alice,
        title="Diary",
        identifiers={"sha256": SHA_RESERVED, "url": "https://alice.example/diary"},
        reserved=True,
    )
    not_offered = make_work(alice, title="Sketch", identifiers={"sha256": SHA_NOT_OFFERED})
    return {"licensable": licensable, "reserved": reserved, "not_offered": not_offered}


# --- Registry -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "status"),
    [
        (f"sha256={SHA_LICENSABLE}", "licensable"),
        (f"sha256={SHA_LICENSABLE.upper()}", "licensable"),
        ("isrc=US-RC1-76-07839", "licensable"),
        ("url=https://ALICE.example/harbour", "licensable"),
        (f"sha256={SHA_RESERVED}", "reserved"),
        (f"sha256={SHA_NOT_OFFERED}", "reserved"),
        ("sha256=" + "4" * 64, "unknown"),
        ("isbn=9780306406157", "unknown"),
        ("doi=10.1000/nothing", "unknown"),
    ],
)
def test_the_registry_answers_each_status_for_the_right_works(works, public, query, status) -> None:
    response = public.get(f"/api/v1/registry?{query}")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == status
    if status == "licensable":
        assert body["work"]["id"] == works["licensable"].public_id
        assert sorted(offer["use"] for offer in body["offers"]) == ["ai-input", "ai-train"]
        assert body["license_url"].endswith(f"/works/{works['licensable'].public_id}/license.xml")
    elif status == "reserved":
        assert body["offers"] == []
        assert body["work"]["reserved"] is (query == f"sha256={SHA_RESERVED}")
    else:
        assert body["work"] is None
        assert body["offers"] == []


@pytest.mark.parametrize(
    "query", ["", "sha256=abc", f"sha256={SHA_LICENSABLE}&isrc=USRC17607839", "isbn=12"]
)
def test_a_bad_registry_query_is_400(db, public, query) -> None:
    response = public.get(f"/api/v1/registry?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "registry_query_invalid"


# --- RSL ------------------------------------------------------------------------------


def _rsl(public: APIClient, work) -> ElementTree.Element:
    response = public.get(f"/works/{work.public_id}/license.xml")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/rsl+xml")
    return ElementTree.fromstring(response.content)


def test_license_xml_is_well_formed_rsl_with_the_offers_prices(works, public) -> None:
    root = _rsl(public, works["licensable"])

    assert root.tag == f"{{{RSL_NAMESPACE}}}rsl"
    content = root.find("rsl:content", NS)
    assert content.get("url") == "https://alice.example/harbour"
    licenses = content.findall("rsl:license", NS)
    terms = {
        lic.find("rsl:permits[@type='usage']", NS).text: (
            lic.find("rsl:payment", NS).get("type"),
            lic.find("rsl:payment/rsl:amount", NS).get("currency"),
            lic.find("rsl:payment/rsl:amount", NS).text,
            lic.find("rsl:prohibits[@type='usage']", NS).text,
            getattr(lic.find("rsl:prohibits[@type='user']", NS), "text", None),
        )
        for lic in licenses
    }
    assert terms == {
        "ai-train": ("purchase", "EUR", "12.50", "ai-index", None),
        "ai-input": ("use", "EUR", "0.00042", "ai-index", "commercial"),
    }


def test_a_reserved_work_prohibits_all(works, public) -> None:
    for name in ("reserved", "not_offered"):
        root = _rsl(public, works[name])
        licenses = root.findall("rsl:content/rsl:license", NS)
        assert len(licenses) == 1
        assert licenses[0].find("rsl:prohibits[@type='usage']", NS).text == "all"
        assert licenses[0].find("rsl:permits", NS) is None
        assert licenses[0].find("rsl:payment", NS) is None


def test_an_unknown_work_is_404_everywhere(db, public) -> None:
    for path in ("/works/wrk_nope/license.xml", "/works/wrk_nope"):
        response = public.get(path, HTTP_ACCEPT="application/xml")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "work_not_found"


# --- The three signals agree: tests/licensing/test_signals_agree.py reads each signal
# with a parser written from its specification, for every state of a work.


def test_tdmrep_without_origin_covers_accords_own_pages(db, public) -> None:
    assert public.get("/.well-known/tdmrep.json").json() == [
        {"location": "/works/*", "tdm-reservation": 1}
    ]
    assert public.get("/.well-known/tdmrep.json?origin=ftp://x").status_code == 400


# --- Cache and rate limit -------------------------------------------------------------


def test_answers_are_cached_and_the_cache_empties_on_change(
    works, public, django_assert_num_queries
) -> None:
    query = f"/api/v1/registry?sha256={SHA_LICENSABLE}"
    license_xml = f"/works/{works['licensable'].public_id}/license.xml"
    assert public.get(query).json()["status"] == "licensable"
    first_document = public.get(license_xml).content
    with django_assert_num_queries(0):
        assert public.get(query).json()["status"] == "licensable"
        assert public.get(license_xml).content == first_document
    work_update(work=works["licensable"], identifiers={"sha256": None})

    assert public.get(query).json()["status"] == "unknown"
    work_reserve(work=works["licensable"])
    assert b'<prohibits type="usage">all</prohibits>' in public.get(license_xml).content


def test_public_endpoints_are_rate_limited_per_address(works, settings, one_rate_window) -> None:
    settings.ACCORD_RATE_LIMITS = {**settings.ACCORD_RATE_LIMITS, "public": "3/min"}
    first, second = APIClient(REMOTE_ADDR="10.0.0.1"), APIClient(REMOTE_ADDR="10.0.0.2")
    path = f"/works/{works['reserved'].public_id}/license.xml"

    statuses = [first.get(path).status_code for _ in range(4)]
    refused = first.get("/api/v1/registry?sha256=" + "5" * 64)

    assert statuses == [200, 200, 200, 429]
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert refused.json()["error"]["type"] == "rate_limit_error"
    assert second.get(path).status_code == 200
