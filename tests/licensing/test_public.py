"""Public signals: the registry, RSL, TDMRep and Content-Usage, cached and rate limited."""

from __future__ import annotations

from decimal import Decimal
from xml.etree import ElementTree

import pytest
from rest_framework.test import APIClient

from licensing import services
from licensing.rsl import RSL_NAMESPACE
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


def test_a_reserved_work_prohibits_ai_all(works, public) -> None:
    for name in ("reserved", "not_offered"):
        root = _rsl(public, works[name])
        licenses = root.findall("rsl:content/rsl:license", NS)
        assert len(licenses) == 1
        assert licenses[0].find("rsl:prohibits[@type='usage']", NS).text == "ai-all"
        assert licenses[0].find("rsl:permits", NS) is None
        assert licenses[0].find("rsl:payment", NS) is None


def test_an_unknown_work_is_404_everywhere(db, public) -> None:
    for path in ("/works/wrk_nope/license.xml", "/works/wrk_nope"):
        response = public.get(path, HTTP_ACCEPT="application/xml")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "work_not_found"


# --- The three signals agree ----------------------------------------------------------


def _tdmrep_rule(public: APIClient, work) -> dict:
    rules = public.get("/.well-known/tdmrep.json?origin=https://alice.example").json()
    path = work.url.removeprefix("https://alice.example")
    matching = [rule for rule in rules if rule["location"] == path]
    assert len(matching) == 1, rules
    return matching[0]


def _signals(public: APIClient, work) -> dict:
    """Read each public signal as its consumers do, and reduce it to what it says about
    unlicensed AI training, unlicensed AI input, and whether a license is on offer
    (None where the signal has no way to say it)."""
    license_url = f"http://testserver/works/{work.public_id}/license.xml"
    root = _rsl(public, work)
    rsl_licenses = root.findall("rsl:content/rsl:license", NS)
    free_tokens, paid_tokens = set(), set()
    for lic in rsl_licenses:
        payment = lic.find("rsl:payment", NS)
        free = payment is None or payment.get("type") == "free"
        for permits in lic.findall("rsl:permits[@type='usage']", NS):
            (free_tokens if free else paid_tokens).update(permits.text.split(","))
    page = public.get(f"/works/{work.public_id}")
    assert page.status_code == 200
    assert page["Link"] == f'<{license_url}>; rel="license"; type="application/rsl+xml"'
    preferences = dict(item.split("=") for item in page["Content-Usage"].split(", "))
    rule = _tdmrep_rule(public, work)
    return {
        "rsl": {
            "unlicensed_training": bool(free_tokens & {"ai-train", "ai-all", "all"}),
            "unlicensed_input": bool(free_tokens & {"ai-input", "ai-all", "all"}),
            "license_offered": bool(paid_tokens),
        },
        "content_usage": {
            "unlicensed_training": preferences["train-ai"] == "y",
            "unlicensed_input": preferences["ai-use"] == "y",
            "license_offered": None,
        },
        "tdmrep_file": {
            "unlicensed_training": rule["tdm-reservation"] == 0,
            "unlicensed_input": rule["tdm-reservation"] == 0,
            "license_offered": rule.get("tdm-policy") == license_url,
        },
        "tdmrep_headers": {
            "unlicensed_training": page["tdm-reservation"] == "0",
            "unlicensed_input": page["tdm-reservation"] == "0",
            "license_offered": page.get("tdm-policy") == license_url,
        },
    }


def _assert_agree(signals: dict, expected: dict) -> None:
    for name, said in signals.items():
        for question, answer in said.items():
            if answer is not None:
                assert answer == expected[question], (name, question, signals)


def test_rsl_tdmrep_and_content_usage_agree_for_a_licensable_work(works, public) -> None:
    signals = _signals(public, works["licensable"])

    _assert_agree(
        signals,
        {"unlicensed_training": False, "unlicensed_input": False, "license_offered": True},
    )


def test_rsl_tdmrep_and_content_usage_agree_for_a_reserved_work(works, public) -> None:
    signals = _signals(public, works["reserved"])

    _assert_agree(
        signals,
        {"unlicensed_training": False, "unlicensed_input": False, "license_offered": False},
    )
    root = _rsl(public, works["reserved"])
    assert root.find("rsl:content/rsl:license/rsl:prohibits", NS).text == "ai-all"


def test_the_signals_follow_a_reservation(works, public) -> None:
    work = works["licensable"]
    assert _signals(public, work)["rsl"]["license_offered"] is True

    services.work_reserve(work=work)

    _assert_agree(
        _signals(public, work),
        {"unlicensed_training": False, "unlicensed_input": False, "license_offered": False},
    )
    assert public.get(f"/api/v1/registry?sha256={SHA_LICENSABLE}").json()["status"] == "reserved"


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
    services.work_update(work=works["licensable"], identifiers={"sha256": None})

    assert public.get(query).json()["status"] == "unknown"
    services.work_reserve(work=works["licensable"])
    assert b"ai-all" in public.get(license_xml).content


def test_public_endpoints_are_rate_limited_per_address(works, settings) -> None:
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
