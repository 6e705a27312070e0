"""GET /api/v1/usage/events, /usage/summary and /me/usage: own rows only, exact figures."""

from __future__ import annotations

import pytest

from licensing.services.usage import usage_period_close
from tests.factories import CreatorFactory, OrganizationFactory, api_key_for


def test_events_are_listed_newest_first_with_their_flags_and_corrections(declared):
    per_unit, client = declared

    body = client.get("/api/v1/usage/events").json()

    assert [event["id"] for event in body["data"]] == [
        "nov-1", "oct-shared", "oct-reserved", "oct-2", "oct-1"
    ]  # fmt: skip
    oct_2 = body["data"][3]
    assert oct_2 == {
        "id": "oct-2",
        "object": "usage_event",
        "license": per_unit.public_id,
        "work": oct_2["work"],
        "units": 200,
        "unit": "token",
        "occurred_at": "2026-10-15T12:00:00+00:00",
        "period": "2026-10",
        "flag": None,
        "corrections": 1,
    }
    assert [event["flag"] for event in body["data"][1:3]] == ["unlicensed", "reserved"]


def test_events_filter_by_period_license_work_and_flag(declared, catalogue):
    per_unit, client = declared

    def ids(query):
        response = client.get(f"/api/v1/usage/events?{query}")
        assert response.status_code == 200, response.json()
        return [event["id"] for event in response.json()["data"]]

    assert ids("period=2026-11") == ["nov-1"]
    assert ids(f"period=2026-10&license={per_unit.public_id}&flag=reserved") == ["oct-reserved"]
    assert ids(f"work={catalogue.solo_work.public_id}") == ["nov-1", "oct-2", "oct-1"]
    assert ids("work=sha256:" + "A" * 64 + "&period=2026-10") == ["oct-2", "oct-1"]
    assert ids("license=lic_nothere") == []


def test_events_are_paged_with_a_cursor(declared):
    _, client = declared

    first = client.get("/api/v1/usage/events?limit=2").json()
    second = client.get(f"/api/v1/usage/events?limit=2&cursor={first['next_cursor']}").json()
    third = client.get(f"/api/v1/usage/events?limit=2&cursor={second['next_cursor']}").json()

    seen = [e["id"] for page in (first, second, third) for e in page["data"]]
    assert seen == ["nov-1", "oct-shared", "oct-reserved", "oct-2", "oct-1"]
    assert third["has_more"] is False


@pytest.mark.parametrize(
    "query",
    ["period=2026-13", "period=october", "flag=wrong", "work=isbn:123", "cursor=garbage"],
)
def test_bad_list_parameters_are_400(declared, query):
    _, client = declared

    response = client.get(f"/api/v1/usage/events?{query}")

    assert response.status_code == 400, response.json()
    assert response.json()["error"]["code"] in {"parameter_invalid", "invalid_cursor"}


def test_another_organisations_events_are_never_listed(declared, client_for):
    other = client_for(OrganizationFactory(slug="other-lab"))

    assert other.get("/api/v1/usage/events").json()["data"] == []
    summary = other.get("/api/v1/usage/summary?period=2026-10").json()
    assert summary["lines"] == []
    assert summary["flagged"] == {"reserved": 0, "unlicensed": 0, "out_of_term": 0}


def test_the_summary_has_exact_rated_amounts_and_flag_counts(declared, catalogue):
    per_unit, client = declared

    body = client.get("/api/v1/usage/summary?period=2026-10").json()

    assert body == {
        "object": "usage_summary",
        "period": "2026-10",
        "lines": [
            {
                "license": per_unit.public_id,
                "work": catalogue.solo_work.public_id,
                "use": "ai-eval",
                "unit": "token",
                "units": 1_200,  # 1,000 + 234 amended to 200
                "amount_decimal": "50.4",  # 1,200 x 0.042 minor units
                "currency": "eur",
            }
        ],
        "flagged": {"reserved": 1, "unlicensed": 1, "out_of_term": 0},
    }


def test_a_closed_periods_summary_keeps_its_events_as_they_were(declared):
    _, client = declared
    usage_period_close(period="2026-11")
    client.post(
        "/api/v1/usage/corrections",
        {"corrections": [{"id": "nov-1", "units": 0, "reason": "retracted"}]},
        format="json",
    )

    lines = client.get("/api/v1/usage/summary?period=2026-11").json()["lines"]

    assert [(line["units"], line["amount_decimal"]) for line in lines] == [(50, "2.1")]


@pytest.mark.parametrize("query", ["", "?period=", "?period=2026-1"])
def test_the_summary_needs_a_period(declared, query):
    _, client = declared

    response = client.get(f"/api/v1/usage/summary{query}")

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "period"


def _creator_client(creator):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(creator)}")
    return client


def test_a_creator_sees_the_usage_of_their_works_with_the_flagged_ones(declared, invoice_org):
    body = _creator_client(declared[0].offer_version.offer.creator).get(
        "/api/v1/me/usage?period=2026-10"
    )

    assert body.status_code == 200, body.json()
    lines = {(line["work"], line["flag"]): line for line in body.json()["lines"]}
    assert len(lines) == 3  # Solo rated, Kept back reserved, Shared unlicensed
    reserved = next(line for line in lines.values() if line["flag"] == "reserved")
    assert reserved == {
        "work": reserved["work"],
        "licensee": invoice_org.public_id,
        "licensee_name": "Invoice Lab",
        "use": "ai-eval",
        "unit": "token",
        "units": 7,
        "events": 1,
        "flag": "reserved",
        "first_occurred_at": "2026-10-15T12:00:00+00:00",
        "last_occurred_at": "2026-10-15T12:00:00+00:00",
    }
    rated = next(line for line in lines.values() if line["flag"] is None)
    assert (rated["units"], rated["events"]) == (1_200, 2)


def test_a_co_owner_sees_the_co_owned_work_only_and_a_stranger_nothing(declared, catalogue):
    bob = _creator_client(catalogue.bob).get("/api/v1/me/usage?period=2026-10").json()
    stranger = _creator_client(CreatorFactory(username="carol"))

    assert [(line["work"], line["flag"]) for line in bob["lines"]] == [
        (catalogue.shared_work.public_id, "unlicensed")
    ]
    assert stranger.get("/api/v1/me/usage?period=2026-10").json()["lines"] == []


def test_keys_of_the_wrong_kind_are_refused(declared, catalogue):
    _, licensee = declared
    creator = _creator_client(catalogue.alice)

    assert licensee.get("/api/v1/me/usage?period=2026-10").status_code == 403
    assert creator.get("/api/v1/usage/events").status_code == 403
    assert creator.get("/api/v1/usage/summary?period=2026-10").status_code == 403
