"""TDMRep as the CG Final Report says: rules that shadow nothing, and ODRL policies (issue 19 #2).

Rules are resolved with `signal_readers.tdmrep_resolve`, the matching of §6.1 (first
matching rule wins) and §6.1.1 (`*`, final `$`); policies are checked against §7.1.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from licensing.demo import demo_catalogue_load
from licensing.models import Work
from licensing.tdmrep import tdmrep_location
from tests.licensing.conftest import flat_terms
from tests.licensing.signal_readers import (
    tdm_policy_duties,
    tdm_policy_problems,
    tdmrep_resolve,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def public(settings) -> APIClient:
    settings.ACCORD_RATE_LIMITS = {**settings.ACCORD_RATE_LIMITS, "public": "100000/min"}
    return APIClient()


def rules_for(public: APIClient, origin: str) -> list[dict]:
    response = public.get("/.well-known/tdmrep.json", {"origin": origin})
    assert response.status_code == 200, response.content
    return response.json()


def test_the_reader_resolves_as_the_report_says() -> None:
    """What today's rules did wrong: `/works/4` first in sequence shadows `/works/40`."""
    old_style = [{"location": "/works/4"}, {"location": "/works/40"}]
    assert tdmrep_resolve(old_style, "https://a.example/works/40") == old_style[0]
    anchored = [{"location": "/works/4$"}, {"location": "/works/40$"}]
    assert tdmrep_resolve(anchored, "https://a.example/works/40") == anchored[1]
    assert tdmrep_resolve(anchored, "https://a.example/works/400") is None
    assert tdmrep_resolve([{"location": "/a/*/b$"}], "https://a.example/a/x/y/b") is not None
    # Percent-encoded unreserved characters compare decoded; a literal `$` is `%24`.
    assert tdmrep_resolve([{"location": "/%7Euser$"}], "https://a.example/~user") is not None
    assert tdmrep_resolve([{"location": "/foo-%24$"}], "https://a.example/foo-$") is not None


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("https://a.example/works/4", "/works/4$"),
        ("https://a.example/works/4?page=2", "/works/4?page=2$"),
        ("https://a.example/a*b$c", "/a%2Ab%24c$"),
        ("https://a.example", "/$"),
    ],
)
def test_a_location_matches_its_url_alone(url: str, location: str) -> None:
    assert tdmrep_location(url) == location
    assert tdmrep_resolve([{"location": location}], url) is not None


def test_no_rule_shadows_another(alice, make_work, make_offer, public) -> None:
    works = [
        make_work(alice, identifiers={"url": f"https://alice.example/works/{number}"})
        for number in (4, *range(40, 50), 400)
    ]
    for work in works[::2]:
        make_offer(alice, work=work, terms=flat_terms())
    query = make_work(alice, identifiers={"url": "https://alice.example/works/4?v=2"})

    rules = rules_for(public, "https://alice.example")

    assert len(rules) == len(works) + 1
    for work in [*works, query]:
        rule = tdmrep_resolve(rules, work.url)
        assert rule is not None, work.url
        expected_policy = f"http://testserver/works/{work.public_id}/tdm-policy.jsonld"
        assert rule.get("tdm-policy") == (expected_policy if work in works[::2] else None)
    assert [len(rule["location"]) for rule in rules] == sorted(
        (len(rule["location"]) for rule in rules), reverse=True
    )


def test_every_demo_work_resolves_to_its_own_rule(public) -> None:
    demo_catalogue_load()
    works = list(Work.objects.exclude(url=None))
    origins = {"/".join(work.url.split("/")[:3]) for work in works}
    assert len(works) > 100  # the issue counted 169 rules, 100 of them shadowed

    rules = {origin: rules_for(public, origin) for origin in origins}

    for work in works:
        origin = "/".join(work.url.split("/")[:3])
        rule = tdmrep_resolve(rules[origin], work.url)
        assert rule is not None, work.url
        assert rule["location"] == tdmrep_location(work.url), work.url
        page = public.get(f"/works/{work.public_id}")
        assert rule.get("tdm-policy") == page.get("tdm-policy"), work.url
        assert str(rule["tdm-reservation"]) == page["tdm-reservation"]


def test_the_policy_is_an_odrl_offer_with_the_tdmrep_profile(
    alice, make_work, make_offer, public
) -> None:
    work = make_work(alice, identifiers={"url": "https://alice.example/h"})
    make_offer(alice, work=work, terms=flat_terms())
    policy_url = public.get(f"/works/{work.public_id}")["tdm-policy"]

    response = public.get(policy_url)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/ld+json"
    policy = response.json()
    assert tdm_policy_problems(policy) == []
    assert policy["uid"] == policy_url
    assert tdm_policy_duties(policy) == {"compensate"}
    assert policy["permission"][0]["target"] == "https://alice.example/h"
    assert policy["assigner"]["vcard:hasURL"] == f"http://testserver/works/{work.public_id}"


def test_a_work_without_offers_names_no_policy_and_has_none(alice, make_work, public) -> None:
    work = make_work(alice)

    page = public.get(f"/works/{work.public_id}")

    assert page["tdm-reservation"] == "1"
    assert "tdm-policy" not in page
    response = public.get(f"/works/{work.public_id}/tdm-policy.jsonld")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "work_not_found"


@pytest.mark.parametrize(
    "origin", ["http://[::1", "http://[::1]:99999", "http://exa mple.com", "ftp://x", "http://"]
)
def test_a_malformed_origin_is_400_with_the_error_body(db, public, origin: str) -> None:
    response = public.get("/.well-known/tdmrep.json", {"origin": origin})

    assert response.status_code == 400
    assert response.json()["error"] == {
        "type": "invalid_request_error",
        "code": "parameter_invalid",
        "message": "origin is a scheme and host, such as https://example.com.",
        "param": "origin",
        "details": None,
    }
