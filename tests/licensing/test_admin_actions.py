"""Every admin action by every role (issue 13, findings 7 and 15).

An action checks the change (or delete) permission and the row's scope: a creator acts
on their own rows only, a finance user (view rights only) on none, staff on all. The
admin import accepts only a temporary file its own preview wrote.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from licensing.models import ApiKey, Collection, Offer, Work
from licensing.services.api_keys import api_key_create
from licensing.services.collections import collection_create
from licensing.services.creators import finance_user_create

pytestmark = pytest.mark.django_db

ROLES = ("owner", "other_creator", "finance", "staff")
# What each role may do to alice's rows; keys are beyond creators' reach altogether.
ALLOWED = {
    "owner": {"reserve_works", "delete_work", "delete_collection", "delete_offer"},
    "other_creator": set(),
    "finance": set(),
    "staff": {"reserve_works", "delete_work", "delete_collection", "delete_offer", "revoke_keys"},
}


def _login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def role_clients(alice, bob) -> dict[str, Client]:
    finance = finance_user_create(username="fin", password=None)
    staff = get_user_model().objects.create_superuser("root", "root@example.com", None)
    return {
        "owner": _login(alice.user),
        "other_creator": _login(bob.user),
        "finance": _login(finance),
        "staff": _login(staff),
    }


@pytest.fixture
def alices_rows(alice, make_work, make_offer) -> dict[str, Any]:
    work = make_work(alice, title="Alice first work")
    offered = make_work(alice, title="Alice's offered work")
    offer = make_offer(alice, work=offered)
    collection = collection_create(creator=alice, title="Alice's box", works=[work])
    api_key, _ = api_key_create(kind=ApiKey.Kind.CREATOR, creator=alice)
    return {"work": work, "offer": offer, "collection": collection, "api_key": api_key}


def _post_action(client: Client, model: str, action: str, pk: int) -> Any:
    data = {"action": action, "_selected_action": [str(pk)], "post": "yes"}
    return client.post(reverse(f"admin:licensing_{model}_changelist"), data)


def _effect(action: str, rows: dict[str, Any]) -> bool:
    """Whether the action happened to alice's row."""
    if action == "reserve_works":
        return Work.objects.get(pk=rows["work"].pk).reserved
    if action == "delete_work":
        return not Work.objects.filter(pk=rows["work"].pk).exists()
    if action == "delete_collection":
        return not Collection.objects.filter(pk=rows["collection"].pk).exists()
    if action == "delete_offer":
        return not Offer.objects.filter(pk=rows["offer"].pk).exists()
    assert action == "revoke_keys"
    return ApiKey.objects.get(pk=rows["api_key"].pk).revoked_at is not None


ACTIONS = {
    # name: (admin model, Django action name, the row key)
    "reserve_works": ("work", "reserve_works", "work"),
    "delete_work": ("work", "delete_selected", "work"),
    "delete_collection": ("collection", "delete_selected", "collection"),
    "delete_offer": ("offer", "delete_selected", "offer"),
    "revoke_keys": ("apikey", "revoke_keys", "api_key"),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS)
def test_every_admin_action_checks_permission_and_scope(
    role_clients, alices_rows, role: str, action: str
) -> None:
    model, django_action, row = ACTIONS[action]

    response = _post_action(role_clients[role], model, django_action, alices_rows[row].pk)

    allowed = action in ALLOWED[role]
    assert _effect(action, alices_rows) is allowed, (role, action, response.status_code)
    assert response.status_code in ((200, 302) if allowed else (200, 302, 403))


def test_view_only_staff_are_not_offered_the_reserve_action(role_clients, alices_rows) -> None:
    page = role_clients["finance"].get(reverse("admin:licensing_work_changelist"))

    assert page.status_code == 200
    assert alices_rows["work"].title in page.content.decode()  # they may look
    assert "reserve_works" not in page.content.decode()


def test_view_only_staff_cannot_import(role_clients) -> None:
    response = role_clients["finance"].post(
        reverse("admin:licensing_work_import"),
        {
            "format": "0",
            "import_file": SimpleUploadedFile("w.csv", b"title,kind\nX,text\n", "text/csv"),
        },
    )

    assert response.status_code == 403
    assert not Work.objects.exists()


# --- The import's confirmation ---------------------------------------------------------


def _confirm(client: Client, import_file_name: str) -> Any:
    return client.post(
        reverse("admin:licensing_work_process_import"),
        {
            "import_file_name": import_file_name,
            "original_file_name": "works.csv",
            "format": "0",
            "resource": "0",
        },
    )


@pytest.mark.parametrize("kind", ["unknown", "absolute", "traversal", "empty", "long"])
def test_confirming_an_import_with_an_unknown_file_is_a_message_not_a_500(
    role_clients, kind, tmp_path
) -> None:
    # A readable CSV the session never uploaded: it must be neither imported nor deleted.
    planted = tmp_path / "planted.csv"
    planted.write_text("title,kind\nPlanted,text\n")
    name = {
        "unknown": "tmpdoesnotexist",
        "absolute": str(planted),
        "traversal": "../" * 10 + str(planted).lstrip("/"),
        "empty": "",
        "long": "a" * 300,
    }[kind]

    response = _confirm(role_clients["owner"], name)

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:licensing_work_import")
    followed = role_clients["owner"].get(response["Location"])
    assert "upload the file again" in followed.content.decode()
    assert not Work.objects.exists()
    assert planted.exists()


def test_a_file_previewed_by_another_user_cannot_be_confirmed(role_clients, alice, bob) -> None:
    preview = role_clients["other_creator"].post(
        reverse("admin:licensing_work_import"),
        {
            "format": "0",
            "import_file": SimpleUploadedFile("w.csv", b"title,kind\nBob's,text\n", "text/csv"),
        },
    )
    name = preview.context["confirm_form"].initial["import_file_name"]

    response = _confirm(role_clients["owner"], name)

    assert response.status_code == 302
    assert not Work.objects.exists()
    # Its own previewer still can, once.
    done = role_clients["other_creator"].post(
        reverse("admin:licensing_work_process_import"), preview.context["confirm_form"].initial
    )
    assert done.status_code == 302
    assert list(Work.objects.values_list("title", "creator")) == [("Bob's", bob.pk)]
    again = role_clients["other_creator"].post(
        reverse("admin:licensing_work_process_import"), preview.context["confirm_form"].initial
    )
    assert again.status_code == 302
    assert Work.objects.count() == 1
