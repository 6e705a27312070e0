"""Cursor lists: every row exactly once across pages, even with ties and inserts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.config.urls_for_tests")]

URL = "/api/v1/_test/user-list"


@pytest.fixture
def users_with_ties() -> list[int]:
    """45 users; groups of five share one date_joined, so the id must break ties."""
    base = timezone.now() - timedelta(days=1)
    user_model = get_user_model()
    users = [
        user_model.objects.create(
            username=f"user{index}", date_joined=base + timedelta(minutes=index // 5)
        )
        for index in range(45)
    ]
    return [user.pk for user in users]


def walk(client: Client, limit: int, on_each_page=None) -> list[list[int]]:
    pages: list[list[int]] = []
    cursor = None
    for _ in range(100):  # bound: a broken cursor must not loop forever
        query = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        body = client.get(URL, query).json()
        assert body["object"] == "list"
        pages.append([row["id"] for row in body["data"]])
        if on_each_page:
            on_each_page()
        if not body["has_more"]:
            assert body["next_cursor"] is None
            return pages
        cursor = body["next_cursor"]
    raise AssertionError("pagination did not end")


def test_pages_cover_every_row_once_in_order(users_with_ties: list[int]) -> None:
    pages = walk(Client(), limit=10)

    seen = [row for page in pages for row in page]
    assert [len(page) for page in pages] == [10, 10, 10, 10, 5]
    assert len(seen) == len(set(seen)) == 45
    assert set(seen) == set(users_with_ties)
    expected_order = list(
        get_user_model().objects.order_by("-date_joined", "-id").values_list("id", flat=True)
    )
    assert seen == expected_order


def test_rows_inserted_during_the_walk_do_not_shift_pages(users_with_ties: list[int]) -> None:
    counter = iter(range(1000))

    def insert_newer_row() -> None:
        get_user_model().objects.create(username=f"late{next(counter)}")

    pages = walk(Client(), limit=7, on_each_page=insert_newer_row)

    seen = [row for page in pages for row in page]
    assert len(seen) == len(set(seen))
    assert set(seen) == set(users_with_ties)


def test_default_limit_is_20(users_with_ties: list[int]) -> None:
    body = Client().get(URL).json()
    assert len(body["data"]) == 20
    assert body["has_more"] is True


def test_exact_last_page_has_no_more(users_with_ties: list[int]) -> None:
    assert [len(page) for page in walk(Client(), limit=15)] == [15, 15, 15]


@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten", "1.5"])
def test_limit_out_of_range_is_400(limit: str) -> None:
    response = Client().get(URL, {"limit": limit})
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("parameter_invalid", "limit")


@pytest.mark.parametrize("cursor", ["garbage!", "bm90IGpzb24", "WzFd", "WyJub3QtYS1kYXRlIiwgMV0"])
def test_a_cursor_we_did_not_give_out_is_400(cursor: str) -> None:
    response = Client().get(URL, {"cursor": cursor})
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("invalid_cursor", "cursor")
