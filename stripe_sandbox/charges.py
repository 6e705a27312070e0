"""Charges: the record of each attempt to take a card payment, and their list.

A PaymentIntent's confirmation makes one (see `payments`); reconciliation reads them
back (`GET /v1/charges`, by `created`, `customer`, `payment_intent` or
`transfer_group`) to compare a day of card income with the ledger. The object has
every field Stripe's OpenAPI description requires, `billing_details` (copied from the
PaymentMethod) and `disputed` among them.
"""

from __future__ import annotations

import copy
from typing import Any

from stripe_sandbox import params as p
from stripe_sandbox.errors import resource_missing
from stripe_sandbox.listing import LIST_PARAMS, paginate, range_filter
from stripe_sandbox.request import ApiRequest
from stripe_sandbox.store import Store, new_id

DECLINE_MESSAGES = {
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
}


def _card_details(method: dict[str, Any], authorized: int | None) -> dict[str, Any]:
    card = method["card"]
    return {
        "type": "card",
        "card": {
            "amount_authorized": authorized,
            "brand": card["brand"],
            "checks": copy.deepcopy(card["checks"]),
            "country": card["country"],
            "exp_month": card["exp_month"],
            "exp_year": card["exp_year"],
            "fingerprint": card["fingerprint"],
            "funding": card["funding"],
            "last4": card["last4"],
            "mandate": None,
            "network": card["brand"],
            "network_token": {"used": False},
            "three_d_secure": None,
            "wallet": None,
        },
    }


def charge_create(
    store: Store, intent: dict[str, Any], method: dict[str, Any], decline_code: str | None
) -> dict[str, Any]:
    """Record a PaymentIntent's charge of `method`: succeeded, or failed with `decline_code`."""
    succeeded = decline_code is None
    return store.add(
        {
            "id": new_id("ch"),
            "object": "charge",
            "amount": intent["amount"],
            "amount_captured": intent["amount"] if succeeded else 0,
            "amount_refunded": 0,
            "application": None,
            "application_fee": None,
            "application_fee_amount": None,
            "balance_transaction": None,
            "billing_details": copy.deepcopy(method["billing_details"]),
            "calculated_statement_descriptor": "ACCORD",
            "captured": succeeded,
            "created": store.now(),
            "currency": intent["currency"],
            "customer": intent["customer"],
            "description": intent["description"],
            "disputed": False,
            "failure_balance_transaction": None,
            "failure_code": None if succeeded else "card_declined",
            "failure_message": None
            if succeeded
            else DECLINE_MESSAGES[decline_code or "generic_decline"],
            "fraud_details": {},
            "livemode": False,
            "metadata": dict(intent["metadata"]),
            "on_behalf_of": None,
            "outcome": {
                "network_status": "approved_by_network" if succeeded else "declined_by_network",
                "reason": decline_code,
                "risk_level": "normal",
                "seller_message": "Payment complete." if succeeded else "The bank declined.",
                "type": "authorized" if succeeded else "issuer_declined",
            },
            "paid": succeeded,
            "payment_intent": intent["id"],
            "payment_method": method["id"],
            "payment_method_details": _card_details(
                method, intent["amount"] if succeeded else None
            ),
            "receipt_email": intent["receipt_email"],
            "receipt_number": None,
            "receipt_url": None,
            "refunded": False,
            "review": None,
            "shipping": None,
            "source_transfer": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": None,
            "status": "succeeded" if succeeded else "failed",
            "transfer_data": None,
            "transfer_group": intent["transfer_group"],
        }
    )


def charge_retrieve(request: ApiRequest) -> dict[str, Any]:
    """GET /v1/charges/{id}."""
    p.only(request.params, ())
    charge = request.store.get(request.path_params["id"], "charge")
    if charge is None:
        raise resource_missing("charge", request.path_params["id"])
    return charge


def charge_list(request: ApiRequest) -> dict[str, Any]:
    """GET /v1/charges, filtered by `created`, `customer`, `payment_intent`, `transfer_group`."""
    params = request.params
    p.only(params, LIST_PARAMS | {"created", "customer", "payment_intent", "transfer_group"})
    items = range_filter(request.store.all("charge"), params, "created")
    for name in ("customer", "payment_intent", "transfer_group"):
        wanted = p.string(params, name)
        if wanted is not None:
            items = [item for item in items if item[name] == wanted]
    return paginate(items, params, "/v1/charges", "charge")
