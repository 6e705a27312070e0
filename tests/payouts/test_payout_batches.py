"""Payout batches through the API, in process (tasks eager): drafts, approval, dispatch."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.money import minor_to_micros
from ledger.selectors import account_balance, account_get
from licensing.accounts import (
    creator_payable,
    platform_payouts_in_transit,
    platform_stripe_balance,
)
from payouts import stripe_gateway
from payouts.models import CreatorHold
from tests.payouts.builders import (
    PRICE_PER_WORK,
    creator_onboard,
    creators_bulk_create,
    creators_fund,
    payout_and_remainder,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_sandbox_settings")]

# Five co-owners of one work: 1,800,009,000 micros / 5 each.
PAYOUT_PER_CREATOR, REMAINDER_MICROS = payout_and_remainder(5)


def _balance(ref: Any) -> int:
    return account_balance(account_get(code=ref.row().code))


@pytest.fixture
def creators(stripe_sandbox_control: Any) -> list:
    creators = creators_bulk_create(5)
    creators_fund(creators)
    for creator in creators[:4]:
        creator_onboard(creator, stripe_sandbox_control)
    return creators


def _draft(client: Any, currency: str = "eur") -> dict:
    response = client.post("/api/v1/payout-batches", {"currency": currency}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_draft_lists_the_eligible_rounded_down_and_the_skipped_with_reasons(
    creators: list, finance_client: Any, finance_user: Any, settings: Any
) -> None:
    settings.PAYOUT_MINIMUM = 1_000
    CreatorHold.objects.create(creator=creators[3], reason="tax form", held_by=finance_user)

    batch = _draft(finance_client)

    assert batch["status"] == "draft"
    assert batch["items_count"] == 3
    assert batch["total"] == 3 * PAYOUT_PER_CREATOR
    assert batch["counts"]["pending"] == 3
    assert sorted((s["creator"], s["reason"]) for s in batch["skipped"]) == sorted(
        [(creators[3].public_id, "on_hold"), (creators[4].public_id, "payouts_not_enabled")]
    )
    assert all(s["amount"] == PAYOUT_PER_CREATOR for s in batch["skipped"])


def test_below_the_minimum_is_skipped(creators: list, finance_client: Any, settings: Any) -> None:
    settings.PAYOUT_MINIMUM = PAYOUT_PER_CREATOR + 1
    batch = _draft(finance_client)
    assert batch["items_count"] == 0
    assert {s["reason"] for s in batch["skipped"]} == {"below_minimum", "payouts_not_enabled"}


def test_a_creator_is_in_at_most_one_unfinished_batch(creators: list, finance_client: Any) -> None:
    first = _draft(finance_client)
    second = _draft(finance_client)
    assert first["items_count"] == 4
    assert second["items_count"] == 0
    assert {s["reason"] for s in second["skipped"]} == {"in_open_batch", "payouts_not_enabled"}


def test_an_approved_batch_is_paid_once_and_the_books_agree_with_stripe(
    creators: list,
    finance_client: Any,
    django_capture_on_commit_callbacks: Any,
    stripe_sandbox_control: Any,
) -> None:
    batch = _draft(finance_client)
    approved = finance_client.post(f"/api/v1/payout-batches/{batch['id']}/approve")
    assert approved.json()["status"] == "approved"

    with django_capture_on_commit_callbacks(execute=True):
        response = finance_client.post(f"/api/v1/payout-batches/{batch['id']}/dispatch")
    assert response.status_code == 202

    done = finance_client.get(f"/api/v1/payout-batches/{batch['id']}").json()
    assert done["status"] == "completed"
    assert done["counts"]["paid"] == 4
    assert done["amounts"]["paid"] == 4 * PAYOUT_PER_CREATOR
    transfers = stripe_gateway.transfers_list(transfer_group=done["transfer_group"]).items
    assert len(transfers) == 4
    assert sum(t.amount for t in transfers) == 4 * PAYOUT_PER_CREATOR
    for creator in creators[:4]:
        assert _balance(creator_payable(creator.public_id, "eur")) == -REMAINDER_MICROS
    assert _balance(platform_payouts_in_transit("eur")) == 0
    charged = minor_to_micros(PRICE_PER_WORK, "eur")
    assert _balance(platform_stripe_balance("eur")) == charged - minor_to_micros(
        4 * PAYOUT_PER_CREATOR, "eur"
    )
    assert stripe_sandbox_control.stats()["by_route"]["POST /v1/transfers"] == 4
