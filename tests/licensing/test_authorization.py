"""The authorization matrix: creator A against creator B's rows, in the portal and the API.

Every cell is denied, and denied as "not found" (404), so A cannot even learn that a
row of B's exists. Anonymous callers are denied everywhere but the public endpoints.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from licensing.models import Collection, Creator, Offer, RightsShare, Work
from licensing.services.collections import collection_create
from licensing.services.offers import offer_update

pytestmark = pytest.mark.django_db

PORTAL_MODELS = ("work", "rightsshare", "collection", "offer", "creator")


@pytest.fixture
def bobs(bob, make_work, make_offer) -> dict[str, Any]:
    work = make_work(bob, title="Bob's secret novel")
    offer = make_offer(bob, work=work)
    offer_update(offer=offer, terms={"amount": 4_242})
    collection = collection_create(creator=bob, title="Bob's box", works=[work])
    return {
        "work": work,
        "rightsshare": RightsShare.objects.get(work=work),
        "collection": collection,
        "offer": offer,
        "creator": bob,
    }


@pytest.fixture
def portal(alice) -> Client:
    client = Client()
    client.force_login(alice.user)
    return client


def _admin_url(name: str, obj: Any, view: str) -> str:
    return reverse(f"admin:licensing_{name}_{view}", args=[obj.pk])


def _history_record_id(obj: Any) -> int:
    return obj.history.order_by("history_id").first().history_id


# --- Portal ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", PORTAL_MODELS)
def test_a_creator_cannot_list_another_creators_rows(bobs, portal, name) -> None:
    response = portal.get(reverse(f"admin:licensing_{name}_changelist"))

    assert response.status_code == 200
    assert str(bobs[name].pk) not in {str(obj.pk) for obj in response.context["cl"].result_list}
    assert b"Bob&#x27;s secret novel" not in response.content
    assert b"Bob's box" not in response.content


@pytest.mark.parametrize("name", PORTAL_MODELS)
@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_a_creator_cannot_open_another_creators_row(bobs, portal, name, view) -> None:
    response = portal.get(_admin_url(name, bobs[name], view))

    assert response.status_code == 404


@pytest.mark.parametrize("name", PORTAL_MODELS)
def test_a_creator_cannot_read_another_creators_history_entries(bobs, portal, name) -> None:
    obj = bobs[name]
    url = reverse(f"admin:licensing_{name}_simple_history", args=[obj.pk, _history_record_id(obj)])

    assert portal.get(url).status_code == 404


@pytest.mark.parametrize("name", ["work", "collection", "offer", "creator"])
def test_a_creator_cannot_change_or_delete_another_creators_row(bobs, portal, name) -> None:
    obj = bobs[name]
    before = {
        "work": lambda: Work.objects.values().get(pk=bobs["work"].pk),
        "collection": lambda: Collection.objects.values().get(pk=bobs["collection"].pk),
        "offer": lambda: Offer.objects.values().get(pk=bobs["offer"].pk),
        "creator": lambda: Creator.objects.values().get(pk=bobs["creator"].pk),
    }[name]
    snapshot = before()

    changed = portal.post(_admin_url(name, obj, "change"), {"title": "Mine now"})
    deleted = portal.post(_admin_url(name, obj, "delete"), {"post": "yes"})

    assert (changed.status_code, deleted.status_code) == (404, 404)
    assert before() == snapshot


def test_a_creator_sees_only_their_own_rows_in_choice_lists(alice, bobs, make_work, portal) -> None:
    own = make_work(alice, title="Alice's own")

    form = portal.get(reverse("admin:licensing_offer_add")).context["adminform"].form

    assert list(form.fields["work"].queryset) == [own]
    assert list(form.fields["collection"].queryset) == []
    assert "creator" not in form.fields


def test_a_creator_cannot_offer_another_creators_work_by_posting_its_id(
    alice, bobs, portal
) -> None:
    response = portal.post(
        reverse("admin:licensing_offer_add"),
        {
            "work": bobs["work"].pk,
            "use": "ai-input",
            "status": "active",
            "pricing": "flat",
            "currency": "eur",
            "amount": "1",
            "term_days": "30",
            "versions-TOTAL_FORMS": "0",
            "versions-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200  # the form again, with an error on `work`
    assert "work" in response.context["adminform"].form.errors
    assert not Offer.objects.filter(creator=alice).exists()


def test_staff_see_everything(bobs, alice, make_work, admin_client) -> None:
    make_work(alice)

    response = admin_client.get(reverse("admin:licensing_work_changelist"))

    assert response.context["cl"].result_count == 2
    assert admin_client.get(_admin_url("work", bobs["work"], "change")).status_code == 200


@pytest.mark.parametrize("name", PORTAL_MODELS)
def test_anonymous_users_are_sent_to_log_in(bobs, client, name) -> None:
    for url in (
        reverse(f"admin:licensing_{name}_changelist"),
        _admin_url(name, bobs[name], "change"),
        _admin_url(name, bobs[name], "history"),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]


# --- API ------------------------------------------------------------------------------


def _api_cells(bobs: dict[str, Any]) -> list[tuple[str, str, dict | None]]:
    work, offer, collection = bobs["work"], bobs["offer"], bobs["collection"]
    return [
        ("get", f"/api/v1/me/works/{work.public_id}", None),
        ("patch", f"/api/v1/me/works/{work.public_id}", {"title": "Mine now"}),
        ("patch", f"/api/v1/me/works/{work.public_id}", {"reserved": True}),
        ("get", f"/api/v1/me/offers/{offer.public_id}", None),
        ("get", f"/api/v1/me/offers/{offer.public_id}?version=1", None),
        ("get", f"/api/v1/me/offers/{offer.public_id}/versions", None),
        ("patch", f"/api/v1/me/offers/{offer.public_id}", {"amount": 1}),
        ("patch", f"/api/v1/me/offers/{offer.public_id}", {"status": "withdrawn"}),
        ("get", f"/api/v1/me/collections/{collection.public_id}", None),
        ("patch", f"/api/v1/me/collections/{collection.public_id}", {"title": "Mine"}),
        (
            "post",
            "/api/v1/me/offers",
            {
                "work": work.public_id,
                "use": "ai-input",
                "pricing": "flat",
                "currency": "eur",
                "amount": 1,
                "term_days": 30,
            },
        ),
        (
            "post",
            "/api/v1/me/offers",
            {
                "collection": collection.public_id,
                "use": "ai-input",
                "pricing": "pool",
                "currency": "eur",
                "amount": 1,
                "term_days": 30,
            },
        ),
        ("post", "/api/v1/me/collections", {"title": "Mine", "works": [work.public_id]}),
    ]


def test_a_creator_cannot_reach_another_creators_rows_through_the_api(
    alice, bobs, client_for
) -> None:
    client = client_for(alice)
    snapshot = (
        list(Work.objects.values()),
        list(Offer.objects.values()),
        list(Collection.objects.values()),
    )

    for method, path, body in _api_cells(bobs):
        response = getattr(client, method)(path, body, format="json")
        assert response.status_code == 404, (method, path, response.content)
        assert response.json()["error"]["type"] == "not_found_error"

    assert snapshot == (
        list(Work.objects.values()),
        list(Offer.objects.values()),
        list(Collection.objects.values()),
    )
    for path in ("/api/v1/me/works", "/api/v1/me/offers", "/api/v1/me/collections"):
        assert client.get(path).json()["data"] == []


def test_anonymous_callers_get_401_everywhere_but_the_public_endpoints(bobs) -> None:
    anonymous = APIClient()
    work = bobs["work"]

    for method, path, body in _api_cells(bobs):
        assert getattr(anonymous, method)(path, body, format="json").status_code == 401
    for path in ("/api/v1/works", f"/api/v1/works/{work.public_id}", "/api/v1/me/works"):
        assert anonymous.get(path).status_code == 401

    for path in (
        f"/api/v1/registry?sha256={'0' * 64}",
        f"/works/{work.public_id}",
        f"/works/{work.public_id}/license.xml",
        "/.well-known/tdmrep.json",
    ):
        assert anonymous.get(path).status_code == 200, path
