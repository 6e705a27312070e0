"""Transfers from the platform to connected accounts, and their reversals.

The rules Accord's payouts depend on, as Stripe enforces them:
- the destination must exist and have an active `transfers` capability (that is,
  it finished onboarding), else 400 `insufficient_capabilities_for_transfer`;
- the amount must be covered by the platform's available balance in that
  currency, else 400 `balance_insufficient`;
- a reversal returns at most what is left of the transfer, moves the money back
  to the platform, and sends `transfer.reversed` (also for partial reversals).
Checks run before any write, so a rejected transfer moves nothing.
"""

from __future__ import annotations

from typing import Any

from stripe_sandbox import params as p
from stripe_sandbox.balance import balance_post
from stripe_sandbox.errors import invalid_request, parameter_invalid, resource_missing
from stripe_sandbox.listing import LIST_PARAMS, paginate, range_filter
from stripe_sandbox.request import ApiRequest
from stripe_sandbox.store import PLATFORM, Store, new_id

_NOT_ONBOARDED = (
    "Your destination account needs to have at least one of the following capabilities "
    "enabled: transfers, crypto_transfers, legacy_payments"
)
_INSUFFICIENT = (
    "You have insufficient available funds in your Stripe account. Try adding funds "
    "directly to your available balance by creating a top-up (POST /v1/topups)."
)


def _transfer(store: Store, transfer_id: str) -> dict[str, Any]:
    transfer = store.get(transfer_id, "transfer")
    if transfer is None:
        raise resource_missing("transfer", transfer_id)
    return transfer


def _transfer_object(store: Store, transfer_id: str, **fields: Any) -> dict[str, Any]:
    """A new transfer as Stripe answers it, nothing reversed yet."""
    return {
        "id": transfer_id,
        "object": "transfer",
        "amount": fields["amount"],
        "amount_reversed": 0,
        "balance_transaction": fields["balance_transaction"],
        "created": store.now(),
        "currency": fields["currency"],
        "description": fields["description"],
        "destination": fields["destination"],
        "destination_payment": fields["destination_payment"],
        "livemode": False,
        "metadata": fields["metadata"],
        "reversals": {
            "object": "list",
            "data": [],
            "has_more": False,
            "url": f"/v1/transfers/{transfer_id}/reversals",
        },
        "reversed": False,
        "source_transaction": None,
        "source_type": "card",
        "transfer_group": fields["transfer_group"],
    }


def transfer_create(request: ApiRequest) -> dict[str, Any]:
    """POST /v1/transfers."""
    params = request.params
    p.only(
        params,
        {
            "amount",
            "currency",
            "destination",
            "transfer_group",
            "metadata",
            "description",
            "source_type",
        },
    )
    amount = p.required_integer(params, "amount", minimum=1)
    currency = p.currency(params)
    destination_id = p.required_string(params, "destination")
    metadata = p.metadata(params)
    description = p.string(params, "description")
    transfer_group = p.string(params, "transfer_group")
    if p.string(params, "source_type") not in (None, "card"):
        raise parameter_invalid("source_type", "The sandbox only holds a card balance.")
    store = request.store
    destination = store.get(destination_id, "account")
    if destination is None:
        raise invalid_request(
            f"No such destination: '{destination_id}'", code="resource_missing", param="destination"
        )
    if destination["capabilities"].get("transfers") != "active":
        raise invalid_request(_NOT_ONBOARDED, code="insufficient_capabilities_for_transfer")
    if store.balance_of(PLATFORM, currency)["available"] < amount:
        raise invalid_request(_INSUFFICIENT, code="balance_insufficient")

    transfer_id = new_id("tr")
    payment_id = new_id("py")
    platform_side = balance_post(
        store,
        owner=PLATFORM,
        amount=-amount,
        currency=currency,
        transaction_type="transfer",
        source=transfer_id,
        description=description,
    )
    balance_post(
        store,
        owner=destination_id,
        amount=amount,
        currency=currency,
        transaction_type="payment",
        source=payment_id,
        description=description,
    )
    transfer = _transfer_object(
        store,
        transfer_id,
        amount=amount,
        currency=currency,
        destination=destination_id,
        destination_payment=payment_id,
        balance_transaction=platform_side["id"],
        description=description,
        metadata=metadata,
        transfer_group=transfer_group,
    )
    store.add(transfer)
    store.emit("transfer.created", transfer, request.context)
    return transfer


def transfer_retrieve(request: ApiRequest) -> dict[str, Any]:
    """GET /v1/transfers/{id}."""
    p.only(request.params, ())
    return _transfer(request.store, request.path_params["id"])


def transfer_update(request: ApiRequest) -> dict[str, Any]:
    """POST /v1/transfers/{id}: only `description` and `metadata` can change, as on Stripe."""
    params = request.params
    p.only(params, {"description", "metadata"})
    transfer = _transfer(request.store, request.path_params["id"])
    updates: dict[str, Any] = {}
    if "description" in params:
        updates["description"] = p.string(params, "description")
    if "metadata" in params:
        updates["metadata"] = p.merged_metadata(transfer["metadata"], params)
    previous = {name: transfer[name] for name in updates}
    transfer.update(updates)
    request.store.emit("transfer.updated", transfer, request.context, previous_attributes=previous)
    return transfer


def transfer_list(request: ApiRequest) -> dict[str, Any]:
    """GET /v1/transfers, filtered by `created`, `destination` and `transfer_group`."""
    params = request.params
    p.only(params, LIST_PARAMS | {"destination", "transfer_group", "created"})
    items = range_filter(request.store.all("transfer"), params, "created")
    for name in ("destination", "transfer_group"):
        wanted = p.string(params, name)
        if wanted is not None:
            items = [item for item in items if item[name] == wanted]
    return paginate(items, params, "/v1/transfers", "transfer")


def reversal_create(request: ApiRequest) -> dict[str, Any]:
    """POST /v1/transfers/{id}/reversals: return all or part of a transfer to the platform."""
    params = request.params
    p.only(params, {"amount", "description", "metadata", "refund_application_fee"})
    store = request.store
    transfer = _transfer(store, request.path_params["id"])
    remaining = transfer["amount"] - transfer["amount_reversed"]
    amount = p.integer(params, "amount", minimum=1)
    metadata = p.metadata(params)
    description = p.string(params, "description")
    if amount is None:
        amount = remaining
    if remaining == 0:
        raise invalid_request(f"Transfer {transfer['id']} has already been fully reversed.")
    if amount > remaining:
        raise invalid_request(
            f"Amount requested ({amount}) is greater than what is left to reverse ({remaining}).",
            code="parameter_invalid_integer",
            param="amount",
        )
    reversal_id = new_id("trr")
    transaction = balance_post(
        store,
        owner=PLATFORM,
        amount=amount,
        currency=transfer["currency"],
        transaction_type="transfer_refund",
        source=reversal_id,
        description=description,
    )
    refund_id = new_id("pyr")
    balance_post(
        store,
        owner=transfer["destination"],
        amount=-amount,
        currency=transfer["currency"],
        transaction_type="payment_refund",
        source=refund_id,
        description=description,
    )
    reversal = {
        "id": reversal_id,
        "object": "transfer_reversal",
        "amount": amount,
        "balance_transaction": transaction["id"],
        "created": store.now(),
        "currency": transfer["currency"],
        "destination_payment_refund": refund_id,
        "metadata": metadata,
        "source_refund": None,
        "transfer": transfer["id"],
    }
    store.add(reversal)
    previous = {"amount_reversed": transfer["amount_reversed"], "reversed": transfer["reversed"]}
    transfer["amount_reversed"] += amount
    transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
    reversals = [
        item for item in store.all("transfer_reversal") if item["transfer"] == transfer["id"]
    ]
    transfer["reversals"].update(data=reversals[:10], has_more=len(reversals) > 10)
    store.emit("transfer.reversed", transfer, request.context, previous_attributes=previous)
    return reversal


def reversal_list(request: ApiRequest) -> dict[str, Any]:
    """GET /v1/transfers/{id}/reversals."""
    p.only(request.params, LIST_PARAMS)
    transfer = _transfer(request.store, request.path_params["id"])
    items = [
        item
        for item in request.store.all("transfer_reversal")
        if item["transfer"] == transfer["id"]
    ]
    return paginate(
        items, request.params, f"/v1/transfers/{transfer['id']}/reversals", "transfer_reversal"
    )


def reversal_retrieve(request: ApiRequest) -> dict[str, Any]:
    """GET /v1/transfers/{id}/reversals/{reversal}."""
    p.only(request.params, ())
    transfer = _transfer(request.store, request.path_params["id"])
    reversal = request.store.get(request.path_params["reversal"], "transfer_reversal")
    if reversal is None or reversal["transfer"] != transfer["id"]:
        raise resource_missing("transfer_reversal", request.path_params["reversal"])
    return reversal
