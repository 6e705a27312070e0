"""Picking a co-owner by name in the portal (the work form's co-owner autocomplete).

The picker must find any creator by display name (a co-owner is, by definition, another
creator), and tell the asker nothing else: no login, no email, no internal id, no
roster to page through.
"""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from licensing.admin.co_owners import co_owner_candidates
from licensing.models import Work
from tests.licensing.test_admin_portal import _shares, _work_form

pytestmark = pytest.mark.django_db

URL = reverse("admin:licensing_work_co_owners")


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _search(client: Client, term: str) -> dict:
    response = client.get(URL, {"term": term})
    assert response.status_code == 200
    return response.json()


def test_a_creator_finds_another_creator_by_display_name(alice, make_creator) -> None:
    zed = make_creator("zed-login", display_name="Zed Zither", email="zed@example.com")

    answer = _search(_client(alice.user), "zith")

    assert answer == {
        "results": [{"id": zed.public_id, "text": "Zed Zither"}],
        "pagination": {"more": False},
    }
    body = json.dumps(answer)
    assert "zed-login" not in body
    assert "zed@example.com" not in body
    assert f'"{zed.pk}"' not in body  # no internal key either


def test_only_the_display_name_is_searched(alice, make_creator) -> None:
    make_creator("hidden-login", display_name="Quiet Quill", email="secret@example.com")

    client = _client(alice.user)

    assert _search(client, "hidden-login")["results"] == []
    assert _search(client, "secret@")["results"] == []
    assert _search(client, "cre_")["results"] == []


def test_one_typed_letter_lists_nobody_and_ten_names_at_most(alice, make_creator) -> None:
    for number in range(12):
        make_creator(f"painter{number}", display_name=f"Painter {number:02d}")
    client = _client(alice.user)

    assert _search(client, "P")["results"] == []
    assert _search(client, " ")["results"] == []
    answer = _search(client, "Painter")
    assert [row["text"] for row in answer["results"]] == [f"Painter {n:02d}" for n in range(10)]
    assert answer["pagination"] == {"more": False}  # type more of the name; no next page


@pytest.mark.parametrize("term", ["Al\x00ice", "A" * 5_000, "%", "_%"])
def test_a_hostile_term_finds_nobody_and_never_fails(alice, make_creator, term) -> None:
    make_creator("percy", display_name="Percy Plum")

    response = _client(alice.user).get(URL, {"term": term})

    # A NUL is refused before any view (400); anything else is searched and finds nobody.
    assert response.status_code in {200, 400}
    if response.status_code == 200:
        assert response.json()["results"] == []
    assert co_owner_candidates(term) == []  # the search itself, past any middleware


def test_two_creators_of_one_name_are_told_apart_by_public_id(alice, make_creator) -> None:
    first = make_creator("sam1", display_name="Sam Sample")
    second = make_creator("sam2", display_name="Sam Sample")

    texts = {row["id"]: row["text"] for row in _search(_client(alice.user), "Sam S")["results"]}

    assert texts == {
        first.public_id: f"Sam Sample ({first.public_id})",
        second.public_id: f"Sam Sample ({second.public_id})",
    }


def test_only_portal_users_who_edit_works_may_ask(alice) -> None:
    anonymous = Client().get(URL, {"term": "Alice"})
    assert anonymous.status_code == 302
    assert reverse("admin:login") in anonymous["Location"]

    staff = get_user_model().objects.create_user("clerk", password="x", is_staff=True)
    assert _client(staff).get(URL, {"term": "Alice"}).status_code == 403


def test_the_work_form_offers_the_picker_not_an_id_box(alice, bob) -> None:
    page = _client(alice.user).get(reverse("admin:licensing_work_add")).content.decode()

    assert "admin-autocomplete" in page
    assert f'data-ajax--url="{URL}"' in page
    assert 'data-minimum-input-length="2"' in page
    assert "cre_…" not in page  # nobody pastes a creator id any more
    assert "admin/js/autocomplete.js" in page


def test_a_co_owner_picked_by_name_is_saved_and_shown_by_name(alice, bob) -> None:
    client = _client(alice.user)
    picked = _search(client, "Bob B")["results"]
    assert [row["text"] for row in picked] == ["Bob Books"]

    response = client.post(
        reverse("admin:licensing_work_add"),
        _work_form(**_shares((alice.public_id, 7_000), (picked[0]["id"], 3_000))),
    )

    assert response.status_code == 302
    work = Work.objects.get()
    assert dict(work.shares.values_list("creator__display_name", "basis_points")) == {
        "Alice Atelier": 7_000,
        "Bob Books": 3_000,
    }
    change = client.get(reverse("admin:licensing_work_change", args=[work.pk])).content.decode()
    assert f'<option value="{bob.public_id}" selected>Bob Books</option>' in change


def test_a_co_owner_reads_the_work_on_their_home_and_cannot_edit_it(alice, bob) -> None:
    client = _client(alice.user)
    client.post(
        reverse("admin:licensing_work_add"),
        _work_form(title="Duet", **_shares((alice.public_id, 5_000), (bob.public_id, 5_000))),
    )
    work = Work.objects.get(title="Duet")
    bobs = _client(bob.user)

    home = bobs.get(reverse("admin:index")).content.decode()
    co_owned = home[home.index('id="home-co-owned"') :]
    assert "Duet" in co_owned
    assert "50%" in co_owned
    assert bobs.get(reverse("admin:licensing_work_change", args=[work.pk])).status_code == 404
    assert (
        bobs.post(
            reverse("admin:licensing_work_change", args=[work.pk]), _work_form(title="Mine now")
        ).status_code
        == 404
    )
    assert Work.objects.get(pk=work.pk).title == "Duet"
