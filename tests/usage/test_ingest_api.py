"""POST /api/v1/usage: dedup for ever, all or nothing, flags stored, work by any identifier."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from licensing.models import UsageEvent, UsageEventKey
from licensing.services.purchases import license_purchase


@pytest.fixture
def per_unit(catalogue, invoice_org):
    return license_purchase(
        organization=invoice_org, offer_id=catalogue.per_unit_offer.public_id, work_ids=None
    )


@pytest.fixture
def client(client_for, invoice_org):
    return client_for(invoice_org)


def _event(event_id, license_, work, units=10, unit="token", occurred_at=None, **extra):
    return {
        "id": event_id,
        "license": license_.public_id,
        "work": work if isinstance(work, str) else work.public_id,
        "units": units,
        "unit": unit,
        "occurred_at": occurred_at
        or (license_.starts_at + dt.timedelta(microseconds=1)).isoformat(),
        **extra,
    }


def _post(client, body):
    raw = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post("/api/v1/usage", raw, content_type="application/json")


def _nothing_written():
    assert UsageEvent.objects.count() == 0
    assert UsageEventKey.objects.count() == 0


def test_a_batch_is_stored_and_a_repeat_is_counted_once(client, catalogue, per_unit):
    events = [_event(f"e{i}", per_unit, catalogue.solo_work) for i in range(3)]
    events.append(_event("e0", per_unit, catalogue.solo_work, units=99))  # same id, same batch

    first = _post(client, {"events": events})
    second = _post(client, {"events": [*events[:2], _event("e3", per_unit, catalogue.solo_work)]})

    assert first.status_code == 200, first.json()
    assert first.json() == {
        "object": "usage_receipt",
        "accepted": 3,
        "duplicates": 1,
        "flagged": {"reserved": 0, "unlicensed": 0, "out_of_term": 0},
    }
    assert second.json()["accepted"] == 1
    assert second.json()["duplicates"] == 2
    assert sorted(UsageEvent.objects.values_list("units", flat=True)) == [10, 10, 10, 10]


def test_work_by_each_kind_of_identifier(client, catalogue, per_unit):
    from licensing.models import Work

    work = catalogue.solo_work
    Work.objects.filter(pk=work.pk).update(
        isrc="USRC17607839",
        isbn="9780306406157",
        doi="10.1000/xyz123",
        url="https://example.org/solo",
    )
    work.refresh_from_db()
    references = [work.public_id] + [
        f"{kind}:{value}" for kind, value in work.identifiers.items() if value
    ]

    response = _post(
        client, {"events": [_event(f"r{i}", per_unit, ref) for i, ref in enumerate(references)]}
    )

    assert response.status_code == 200, response.json()
    assert response.json()["accepted"] == len(references) == 6
    assert set(UsageEvent.objects.values_list("work_id", flat=True)) == {work.pk}


def test_flags_are_stored_where_they_apply_and_nowhere_else(client, catalogue, per_unit):
    events = [
        _event("ok", per_unit, catalogue.solo_work),
        _event("res", per_unit, catalogue.reserved_work),
        _event("unl", per_unit, catalogue.shared_work),
        _event("old", per_unit, catalogue.solo_work, occurred_at="2001-01-01T00:00:00Z"),
    ]

    response = _post(client, {"events": events})

    assert response.json()["flagged"] == {"reserved": 1, "unlicensed": 1, "out_of_term": 1}
    assert dict(UsageEvent.objects.values_list("event_id", "flag")) == {
        "ok": None,
        "res": "reserved",
        "unl": "unlicensed",
        "old": "out_of_term",
    }


BAD_EVENTS = {
    "not an object": 5,
    "unknown field": {"colour": "red"},
    "missing field": {"units": None},
    "empty id": {"id": ""},
    "long id": {"id": "x" * 129},
    "zero units": {"units": 0},
    "negative units": {"units": -1},
    "fractional units": {"units": 1.5},
    "string units": {"units": "10"},
    "huge units": {"units": 2**63},
    "unknown unit": {"unit": "byte"},
    "unpriced unit": {"unit": "item"},
    "unknown license": {"license": "lic_nope"},
    "unknown work": {"work": "wrk_nope"},
    "unknown identifier": {"work": "isbn:9780306406157"},
    "bad identifier": {"work": "isbn:12"},
    "unparsable time": {"occurred_at": "yesterday"},
    "naive time": {"occurred_at": "2026-11-20T10:00:00"},
    "NUL in the id": {"id": "a\x00b"},
    "NUL in the model": {"model": "m\x00"},
    "future time": {"occurred_at": "2999-01-01T00:00:00Z"},
}


@pytest.mark.parametrize("case", BAD_EVENTS)
def test_one_bad_event_rejects_the_batch_and_writes_nothing(client, catalogue, per_unit, case):
    good = [_event(f"g{i}", per_unit, catalogue.solo_work) for i in range(5)]
    change = BAD_EVENTS[case]
    if isinstance(change, dict):
        bad = {**_event("bad", per_unit, catalogue.solo_work), **change}
        if change.get("units", 0) is None:
            del bad["units"]
    else:
        bad = change
    response = _post(client, {"events": [*good[:3], bad, *good[3:]]})

    assert response.status_code == 422, response.json()
    error = response.json()["error"]
    assert error["code"] == "usage_invalid"
    assert [detail["index"] for detail in error["details"]] == [3]
    _nothing_written()


def test_another_organisations_license_is_unknown(client_for, catalogue, per_unit):
    from licensing.services.organizations import organization_create

    other = client_for(organization_create(slug="other-lab", billing="invoice"))
    response = _post(other, {"events": [_event("x", per_unit, catalogue.solo_work)]})

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["code"] == "license_unknown"
    _nothing_written()


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[]", b'"events"', b"{}", b'{"events": []}', b'{"events": 3}'],
)
def test_malformed_batches_are_400(client, db, body):
    response = _post(client, body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] in {
        "invalid_json", "parameter_missing", "parameter_invalid"
    }  # fmt: skip
    _nothing_written()


def test_over_ten_thousand_events_is_400(client, catalogue, per_unit):
    event = _event("x", per_unit, catalogue.solo_work)
    response = _post(client, {"events": [event] * 10_001})

    assert response.status_code == 400
    _nothing_written()


def test_one_bad_event_among_ten_thousand_writes_nothing(client, catalogue, per_unit):
    events = [_event(f"e{i}", per_unit, catalogue.solo_work) for i in range(10_000)]
    events[7_777]["units"] = 0

    response = _post(client, {"events": events})

    assert response.status_code == 422
    assert [d["index"] for d in response.json()["error"]["details"]] == [7_777]
    _nothing_written()
    events[7_777]["units"] = 1
    assert _post(client, {"events": events}).json()["accepted"] == 10_000


def test_a_body_over_the_limit_is_413(client, settings, db):
    settings.API_MAX_BODY_BYTES = 1_000
    response = _post(client, {"events": [{"id": "x" * 2_000}]})

    assert response.status_code == 413
    _nothing_written()
