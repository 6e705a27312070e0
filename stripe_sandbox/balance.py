"""Balances, balance transactions and top-ups.

Every movement of money goes through `balance_post`, which writes one
BalanceTransaction and changes the owner's available balance by the same amount,
so the sum of an owner's balance transactions always equals its balance: the
invariant reconciliation compares Accord's ledger against. Funds become available
at once (the sandbox has no clock to settle pending funds) and Stripe's processing
fees are zero, so amounts stay exact.
"""

from __future__ import annotations

from typing import Any

from stripe_sandbox import params as p
from stripe_sandbox.errors import parameter_invalid, resource_missing
from stripe_sandbox.listing import LIST_PARAMS, paginate, range_filter
from stripe_sandbox.request import ApiRequest
from stripe_sandbox.store import PLATFORM, Store, new_id

_REPORTING_CATEGORY = {
    "charge": "charge",
    "payment": "charge",
    "topup": "topup",
    "transfer": "transfer",
    "transfer_refund": "transfer_reversal",
    "payment_refund": "transfer_reversal",
}
# Stripe's minimum charge amounts, in the minor unit, for the currencies Accord quotes in.
MINIMUM_CHARGE = {"usd": 50, "eur": 50, "gbp": 30, "chf": 50, "cad": 50, "aud": 50}


def balance_post(
    store: Store,
    *,
    owner: str,
    amount: int,
    currency: str,
    transaction_type: str,
    source: str,
    description: str | None = None,
) -> dict[str, Any]:
    """Move `amount` (signed) in or out of `owner`'s available balance, with its record."""
    assert transaction_type in _REPORTING_CATEGORY, transaction_type
    created = store.now()
    transaction = {
        "id": new_id("txn"),
        "object": "balance_transaction",
        "amount": amount,
        "available_on": created,
        "created": created,
        "currency": currency,
        "description": description,
        "exchange_rate": None,
        "fee": 0,
        "fee_details": [],
        "net": amount,
        "reporting_category": _REPORTING_CATEGORY[transaction_type],
        "source": source,
        "status": "available",
        "type": transaction_type,
    }
    store.add(transaction)
    store.balance_transaction_owner[transaction["id"]] = owner
    store.balance_of(owner, currency)["available"] += amount
    return transaction


def _amounts(store: Store, owner: str, kind: str) -> list[dict[str, Any]]:
    per_currency = store.balances.get(owner) or {"usd": {"available": 0, "pending": 0}}
    return [
        {"amount": amounts[kind], "currency": currency, "source_types": {"card": amounts[kind]}}
        for currency, amounts in sorted(per_currency.items())
    ]


def balance_retrieve(request: ApiRequest) -> dict[str, Any]:
    """GET /v1/balance (the platform's, or a connected account's with Stripe-Account)."""
    p.only(request.params, ())
    owner = request.stripe_account or PLATFORM
    return {
        "object": "balance",
        "available": _amounts(request.store, owner, "available"),
        "pending": _amounts(request.store, owner, "pending"),
        "livemode": False,
    }


def balance_transaction_list(request: ApiRequest) -> dict[str, Any]:
    """GET /v1/balance_transactions, filtered by created, type, source, currency or payout."""
    params = request.params
    p.only(params, LIST_PARAMS | {"type", "source", "currency", "created", "payout"})
    owner = request.stripe_account or PLATFORM
    items = [
        item
        for item in request.store.all("balance_transaction")
        if request.store.balance_transaction_owner.get(item["id"]) == owner
    ]
    items = range_filter(items, params, "created")
    for name in ("type", "source", "currency"):
        wanted = p.string(params, name)
        if wanted is not None:
            wanted = wanted.lower() if name == "currency" else wanted
            items = [item for item in items if item[name] == wanted]
    if p.string(params, "payout") is not None:
        items = []  # the sandbox makes no payouts, so no transaction belongs to one
    return paginate(items, params, "/v1/balance_transactions", "balance transaction")


def balance_transaction_retrieve(request: ApiRequest) -> dict[str, Any]:
    """GET /v1/balance_transactions/{id}."""
    p.only(request.params, ())
    transaction_id = request.path_params["id"]
    owner = request.stripe_account or PLATFORM
    transaction = request.store.get(transaction_id, "balance_transaction")
    if transaction is None or request.store.balance_transaction_owner.get(transaction_id) != owner:
        raise resource_missing("balance transaction", transaction_id)
    return transaction


def topup_create(request: ApiRequest) -> dict[str, Any]:
    """POST /v1/topups: add funds to the platform's available balance, as in test mode."""
    params = request.params
    p.only(
        params,
        {
            "amount",
            "currency",
            "description",
            "metadata",
            "source",
            "statement_descriptor",
            "transfer_group",
        },
    )
    if request.stripe_account:
        raise parameter_invalid(
            "stripe_account", "Top-ups can only be made to the platform account."
        )
    # Read every parameter before touching the balance: a rejected request writes nothing.
    amount = p.required_integer(params, "amount", minimum=1)
    currency = p.currency(params)
    description = p.string(params, "description")
    metadata = p.metadata(params)
    statement_descriptor = p.string(params, "statement_descriptor")
    transfer_group = p.string(params, "transfer_group")
    topup_id = new_id("tu")
    transaction = balance_post(
        request.store,
        owner=PLATFORM,
        amount=amount,
        currency=currency,
        transaction_type="topup",
        source=topup_id,
        description=description,
    )
    created = request.store.now()
    topup = {
        "id": topup_id,
        "object": "topup",
        "amount": amount,
        "balance_transaction": transaction["id"],
        "created": created,
        "currency": currency,
        "description": description,
        "expected_availability_date": created,
        "failure_code": None,
        "failure_message": None,
        "livemode": False,
        "metadata": metadata,
        "source": None,
        "statement_descriptor": statement_descriptor,
        "status": "succeeded",
        "transfer_group": transfer_group,
    }
    request.store.add(topup)
    request.store.emit("topup.created", topup, request.context)
    request.store.emit("topup.succeeded", topup, request.context)
    return topup


def topup_retrieve(request: ApiRequest) -> dict[str, Any]:
    """GET /v1/topups/{id}."""
    p.only(request.params, ())
    topup = request.store.get(request.path_params["id"], "topup")
    if topup is None:
        raise resource_missing("topup", request.path_params["id"])
    return topup


def topup_list(request: ApiRequest) -> dict[str, Any]:
    """GET /v1/topups."""
    params = request.params
    p.only(params, LIST_PARAMS | {"created", "status", "amount"})
    items = range_filter(request.store.all("topup"), params, "created")
    items = range_filter(items, params, "amount")
    status = p.string(params, "status")
    if status is not None:
        items = [item for item in items if item["status"] == status]
    return paginate(items, params, "/v1/topups", "topup")
