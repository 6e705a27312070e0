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
from payouts.models import CreatorHold, PayoutBatch, PayoutItem
from payouts.stripe import gateway
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
    transfers = gateway.transfers_list(transfer_group=done["transfer_group"]).items
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


def _counts() -> tuple[int, int, int]:
    from ledger.models import Transaction
    from payouts.models import PayoutBatchApproval

    return (
        PayoutBatch.objects.count(),
        PayoutBatchApproval.objects.count(),
        Transaction.objects.count(),
    )


@pytest.mark.parametrize("currency", ["xyz", "", "EURO", 7])
def test_an_unknown_currency_is_400_and_writes_nothing(finance_client: Any, currency: Any) -> None:
    before = _counts()
    response = finance_client.post("/api/v1/payout-batches", {"currency": currency}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"currency_unsupported", "parameter_invalid"}
    assert _counts() == before


def test_the_state_machine_refuses_what_the_status_does_not_allow(
    creators: list, finance_client: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.PAYOUT_SECOND_APPROVAL_ABOVE = 10**12
    batch = _draft(finance_client)
    url = f"/api/v1/payout-batches/{batch['id']}"

    before = _counts()
    response = finance_client.post(f"{url}/dispatch")  # a draft
    assert (response.status_code, response.json()["error"]["code"]) == (
        409,
        "payout_batch_not_approved",
    )
    assert _counts() == before

    assert finance_client.post(f"{url}/approve").json()["status"] == "approved"
    with django_capture_on_commit_callbacks(execute=True):
        assert finance_client.post(f"{url}/dispatch").status_code == 202
    assert finance_client.get(url).json()["status"] == "completed"

    before = _counts()
    response = finance_client.post(f"{url}/approve")  # a dispatched batch
    assert (response.status_code, response.json()["error"]["code"]) == (
        409,
        "payout_batch_not_draft",
    )
    item = PayoutItem.objects.filter(batch__public_id=batch["id"]).first()
    response = finance_client.post(f"{url}/items/{item.public_id}/retry")  # paid, not failed
    assert (response.status_code, response.json()["error"]["code"]) == (
        409,
        "payout_item_not_failed",
    )
    assert _counts() == before
    # Dispatching a completed batch again is harmless: nothing is sent.
    assert finance_client.post(f"{url}/dispatch").status_code == 202
    assert _counts() == before


def test_above_the_threshold_the_same_user_cannot_approve_twice(
    creators: list,
    finance_client: Any,
    second_finance_user: Any,
    finance_client_for: Any,
    settings: Any,
) -> None:
    settings.PAYOUT_SECOND_APPROVAL_ABOVE = 100
    batch = _draft(finance_client)
    url = f"/api/v1/payout-batches/{batch['id']}/approve"
    first = finance_client.post(url).json()
    assert first["status"] == "draft"
    assert len(first["approvals"]) == 1

    before = _counts()
    again = finance_client.post(url)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "second_approver_required")
    assert _counts() == before

    second = finance_client_for(second_finance_user).post(url).json()
    assert second["status"] == "approved"
    assert [a["user"] for a in second["approvals"]] == ["fiona", "frank"]


def test_other_keys_get_404_on_every_finance_endpoint(
    creators: list, finance_client: Any, creator_client_for: Any
) -> None:
    batch = _draft(finance_client)
    creator_client = creator_client_for(creators[0])
    before = _counts()
    for method, path in [
        ("get", "/api/v1/payout-batches"),
        ("post", "/api/v1/payout-batches"),
        ("get", f"/api/v1/payout-batches/{batch['id']}"),
        ("post", f"/api/v1/payout-batches/{batch['id']}/approve"),
        ("post", f"/api/v1/payout-batches/{batch['id']}/dispatch"),
        ("get", f"/api/v1/payout-batches/{batch['id']}/items"),
        ("get", f"/api/v1/payout-batches/{batch['id']}/items.csv"),
        ("post", f"/api/v1/creators/{creators[0].public_id}/hold"),
        ("post", f"/api/v1/creators/{creators[0].public_id}/release"),
        ("get", "/api/v1/reconciliation?date=2026-01-01"),
    ]:
        response = getattr(creator_client, method)(path, {"currency": "eur"}, format="json")
        assert response.status_code == 404, (method, path)
        assert response.json()["error"]["code"] == "not_found"
    assert _counts() == before


def test_a_refused_transfer_fails_the_item_returns_the_money_and_a_retry_pays_it(
    creators: list,
    finance_client: Any,
    settings: Any,
    stripe_sandbox_control: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.PAYOUT_SECOND_APPROVAL_ABOVE = 10**12
    batch = _draft(finance_client)
    url = f"/api/v1/payout-batches/{batch['id']}"
    victim = creators[0]
    stripe_sandbox_control.set_payouts(victim.payout_account.stripe_account_id, False)
    finance_client.post(f"{url}/approve")
    with django_capture_on_commit_callbacks(execute=True):
        finance_client.post(f"{url}/dispatch")

    body = finance_client.get(url).json()
    assert body["status"] == "completed_with_failures"
    assert (body["counts"]["paid"], body["counts"]["failed"]) == (3, 1)
    [failed] = finance_client.get(f"{url}/items?status=failed").json()["data"]
    assert failed["creator"] == victim.public_id
    assert failed["failure_code"] == "insufficient_capabilities_for_transfer"
    payable = creator_payable(victim.public_id, "eur")
    assert _balance(payable) == -minor_to_micros(PAYOUT_PER_CREATOR, "eur") - REMAINDER_MICROS
    assert _balance(platform_payouts_in_transit("eur")) == 0

    stripe_sandbox_control.set_payouts(victim.payout_account.stripe_account_id, True)
    with django_capture_on_commit_callbacks(execute=True):
        retried = finance_client.post(f"{url}/items/{failed['id']}/retry")
    assert retried.status_code == 202
    item = PayoutItem.objects.get(public_id=failed["id"])
    assert item.status == PayoutItem.Status.PAID
    assert item.transfer_idempotency_key.endswith(":retry-1")
    assert finance_client.get(url).json()["status"] == "completed"
    assert _balance(payable) == -REMAINDER_MICROS
    transfers = gateway.transfers_list(transfer_group=body["transfer_group"]).items
    assert len(transfers) == 4


def test_hold_and_release_a_creator(creators: list, finance_client: Any) -> None:
    creator = creators[0]
    url = f"/api/v1/creators/{creator.public_id}"
    assert finance_client.post(f"{url}/hold", {"reason": ""}, format="json").status_code == 400
    assert finance_client.post(f"{url}/release").json()["error"]["code"] == "creator_not_held"
    assert finance_client.post(f"{url}/hold", {"reason": "KYC"}, format="json").status_code == 201
    again = finance_client.post(f"{url}/hold", {"reason": "KYC"}, format="json")
    assert again.json()["error"]["code"] == "creator_already_held"
    skipped = {s["creator"]: s["reason"] for s in _draft(finance_client)["skipped"]}
    assert skipped[creator.public_id] == "on_hold"
    assert finance_client.post(f"{url}/release").status_code == 200
    assert finance_client.post("/api/v1/creators/cre_nope/hold", {"reason": "x"}).status_code == 404


def test_the_items_export_as_csv(creators: list, finance_client: Any) -> None:
    batch = _draft(finance_client)
    response = finance_client.get(f"/api/v1/payout-batches/{batch['id']}/items.csv")
    assert response.status_code == 200
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].split(",")[:5] == [
        "item",
        "creator",
        "creator_name",
        "stripe_account",
        "amount",
    ]
    assert len(lines) == 1 + 4
    assert all(line.split(",")[4] == str(PAYOUT_PER_CREATOR) for line in lines[1:])


def test_items_filter_by_status_and_refuse_an_unknown_one(
    creators: list, finance_client: Any
) -> None:
    batch = _draft(finance_client)
    url = f"/api/v1/payout-batches/{batch['id']}/items"
    assert len(finance_client.get(f"{url}?status=pending").json()["data"]) == 4
    assert finance_client.get(f"{url}?status=paid").json()["data"] == []
    assert finance_client.get(f"{url}?status=lost").status_code == 400
    assert finance_client.get("/api/v1/payout-batches/pob_missing/items").status_code == 404


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        (250, 8),  # 32 jobs of up to 8, not five of 50 (four together, one alone)
        (10_000, 50),  # a big batch keeps PAYOUT_CHUNK_SIZE
        (1_600, 50),
        (1_601, 50),
        (33, 2),
        (5, 1),
        (0, 1),
    ],
)
def test_a_dispatch_is_cut_into_enough_jobs(items: int, expected: int, settings: Any) -> None:
    from payouts.services.payout_dispatch import fan_out_chunk_size

    settings.PAYOUT_CHUNK_SIZE = 50
    settings.PAYOUT_FAN_OUT_CHUNKS_MIN = 32
    assert fan_out_chunk_size(items) == expected
