"""Customers, card PaymentMethods, PaymentIntents and the charges they make.

Licensees pay the platform with a card on file: a Customer with an attached
PaymentMethod, charged off-session by a PaymentIntent created with
`confirm=true, off_session=true`. Stripe's test tokens stand in for cards:
`pm_card_visa` pays, `pm_card_chargeDeclined` is declined with `card_declined`.
As on Stripe, using a token creates a new `pm_...` object each time.

A declined confirmation answers 402 with a `card_error` that carries the
PaymentIntent (now `requires_payment_method`, with `last_payment_error`), and sends
`payment_intent.payment_failed`; a successful one adds the amount to the platform
balance through a charge and sends `payment_intent.succeeded`.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from stripe_sandbox import charges
from stripe_sandbox import params as p
from stripe_sandbox.balance import MINIMUM_CHARGE, balance_post
from stripe_sandbox.errors import StripeError, invalid_request, parameter_invalid, resource_missing
from stripe_sandbox.listing import LIST_PARAMS, paginate, range_filter
from stripe_sandbox.request import ApiRequest
from stripe_sandbox.store import PLATFORM, Store, new_id


@dataclass(frozen=True)
class TestCard:
    """A Stripe test token: which card it stands for and how charging it ends."""

    brand: str
    last4: str
    decline_code: str | None = None


# Stripe's documented test PaymentMethod tokens. The sandbox lets a declining card be
# attached and declines it when charged, so a licensee "with a bad card on file" can
# be set up (Stripe's own `pm_card_chargeCustomerFail` behaves exactly so).
TEST_CARDS: dict[str, TestCard] = {
    "pm_card_visa": TestCard("visa", "4242"),
    "pm_card_mastercard": TestCard("mastercard", "4444"),
    "pm_card_amex": TestCard("amex", "8431"),
    "pm_card_chargeDeclined": TestCard("visa", "0002", "generic_decline"),
    "pm_card_chargeCustomerFail": TestCard("visa", "0341", "generic_decline"),
    "pm_card_chargeDeclinedInsufficientFunds": TestCard("visa", "9995", "insufficient_funds"),
}
_DECLINE_BY_LAST4 = {card.last4: card.decline_code for card in TEST_CARDS.values()}


# -- customers ---------------------------------------------------------------------


def customer_create(request: ApiRequest) -> dict[str, Any]:
    """POST /v1/customers (optionally attaching `payment_method`)."""
    params = request.params
    p.only(
        params,
        {"email", "name", "description", "phone", "metadata", "payment_method", "invoice_settings"},
    )
    payment_method_id = p.string(params, "payment_method")
    invoice_settings = p.hash_param(params, "invoice_settings")
    default_payment_method = invoice_settings.get("default_payment_method") or None
    customer = {
        "id": new_id("cus"),
        "object": "customer",
        "created": request.store.now(),
        "description": p.string(params, "description"),
        "email": p.string(params, "email"),
        "invoice_settings": {"default_payment_method": None},
        "livemode": False,
        "metadata": p.metadata(params),
        "name": p.string(params, "name"),
        "phone": p.string(params, "phone"),
    }
    payment_method = None
    if payment_method_id is not None:
        # Resolve before storing anything, so a bad id leaves no half-made customer.
        payment_method = _payment_method_for(request.store, payment_method_id, "payment_method")
    if payment_method is not None and default_payment_method == payment_method_id:
        customer["invoice_settings"]["default_payment_method"] = payment_method["id"]
    request.store.add(customer)
    request.store.emit("customer.created", customer, request.context)
    if payment_method is not None:
        _attach(request, payment_method, customer)
    return customer


def customer_retrieve(request: ApiRequest) -> dict[str, Any]:
    """GET /v1/customers/{id}."""
    p.only(request.params, ())
    return _customer(request.store, request.path_params["id"], "id")


def customer_update(request: ApiRequest) -> dict[str, Any]:
    """POST /v1/customers/{id}: contact fields, metadata and the default payment method."""
    params = request.params
    p.only(params, {"email", "name", "description", "phone", "metadata", "invoice_settings"})
    customer = _customer(request.store, request.path_params["id"], "id")
    updates: dict[str, Any] = {
        name: p.string(params, name)
        for name in ("email", "name", "description", "phone")
        if name in params
    }
    if "metadata" in params:
        updates["metadata"] = p.merged_metadata(customer["metadata"], params)
    invoice_settings = p.hash_param(params, "invoice_settings")
    if "default_payment_method" in invoice_settings:
        method_id = invoice_settings["default_payment_method"] or None
        method = request.store.get(method_id, "payment_method") if method_id else None
        if method_id and (method is None or method["customer"] != customer["id"]):
            raise invalid_request(
                f"No such PaymentMethod: '{method_id}'",
                code="resource_missing",
                param="invoice_settings[default_payment_method]",
            )
        updates["invoice_settings"] = {"default_payment_method": method_id}
    previous = {name: copy.deepcopy(customer[name]) for name in updates}
    customer.update(updates)
    request.store.emit("customer.updated", customer, request.context, previous_attributes=previous)
    return customer


def customer_list(request: ApiRequest) -> dict[str, Any]:
    """GET /v1/customers, optionally by email."""
    p.only(request.params, LIST_PARAMS | {"email", "created"})
    items = range_filter(request.store.all("customer"), request.params, "created")
    email = p.string(request.params, "email")
    if email is not None:
        items = [item for item in items if item["email"] == email]
    return paginate(items, request.params, "/v1/customers", "customer")


def _customer(store: Store, customer_id: str, param: str) -> dict[str, Any]:
    customer = store.get(customer_id, "customer")
    if customer is None:
        raise resource_missing("customer", customer_id, param=param)
    return customer


# -- payment methods ---------------------------------------------------------------


def _payment_method_from_token(store: Store, token: str) -> dict[str, Any]:
    card = TEST_CARDS[token]
    expiry_year = datetime.date.today().year + 3
    return store.add(
        {
            "id": new_id("pm"),
            "object": "payment_method",
            "billing_details": {"address": None, "email": None, "name": None, "phone": None},
            "card": {
                "brand": card.brand,
                "checks": {
                    "address_line1_check": None,
                    "address_postal_code_check": None,
                    "cvc_check": "pass",
                },
                "country": "US",
                "exp_month": 12,
                "exp_year": expiry_year,
                "fingerprint": hashlib.sha256(token.encode()).hexdigest()[:16],
                "funding": "credit",
                "last4": card.last4,
            },
            "created": store.now(),
            "customer": None,
            "livemode": False,
            "metadata": {},
            "type": "card",
        }
    )


def _payment_method_for(store: Store, payment_method_id: str, param: str) -> dict[str, Any]:
    """Return a stored PaymentMethod, minting a new one when given a test token."""
    if payment_method_id in TEST_CARDS:
        return _payment_method_from_token(store, payment_method_id)
    method = store.get(payment_method_id, "payment_method")
    if method is None:
        raise invalid_request(
            f"No such PaymentMethod: '{payment_method_id}'", code="resource_missing", param=param
        )
    return method


def _attach(request: ApiRequest, method: dict[str, Any], customer: dict[str, Any]) -> None:
    if method["customer"] not in (None, customer["id"]):
        raise invalid_request(
            "The payment method you provided has already been attached to a customer.",
            code="payment_method_unexpected_state",
        )
    method["customer"] = customer["id"]
    request.store.emit("payment_method.attached", method, request.context)


def payment_method_attach(request: ApiRequest) -> dict[str, Any]:
    """POST /v1/payment_methods/{id}/attach."""
    p.only(request.params, {"customer"})
    customer = _customer(request.store, p.required_string(request.params, "customer"), "customer")
    method = _payment_method_for(request.store, request.path_params["id"], "payment_method")
    _attach(request, method, customer)
    return method


def payment_method_retrieve(request: ApiRequest) -> dict[str, Any]:
    """GET /v1/payment_methods/{id}."""
    p.only(request.params, ())
    method = request.store.get(request.path_params["id"], "payment_method")
    if method is None:
        raise resource_missing("payment_method", request.path_params["id"])
    return method


def payment_method_list(request: ApiRequest) -> dict[str, Any]:
    """GET /v1/payment_methods?customer=... (and /v1/customers/{id}/payment_methods)."""
    p.only(request.params, LIST_PARAMS | {"customer", "type"})
    customer_id = request.path_params.get("id") or p.required_string(request.params, "customer")
    _customer(request.store, customer_id, "customer")
    method_type = p.string(request.params, "type")
    items = [
        item
        for item in request.store.all("payment_method")
        if item["customer"] == customer_id and method_type in (None, item["type"])
    ]
    # Each list names its own path, as Stripe's do: /v1/payment_methods for ?customer=.
    url = request.path.rstrip("/")
    return paginate(items, request.params, url, "payment_method")


# -- payment intents ---------------------------------------------------------------

_INTENT_PARAMS = {
    "amount",
    "currency",
    "customer",
    "payment_method",
    "confirm",
    "off_session",
    "metadata",
    "description",
    "payment_method_types",
    "automatic_payment_methods",
    "capture_method",
    "receipt_email",
    "statement_descriptor",
    "statement_descriptor_suffix",
    "transfer_group",
    "error_on_requires_action",
}


def payment_intent_create(request: ApiRequest) -> dict[str, Any]:
    """POST /v1/payment_intents; with `confirm=true` it charges at once."""
    params = request.params
    p.only(params, _INTENT_PARAMS)
    amount = p.required_integer(params, "amount", minimum=1)
    currency = p.currency(params)
    minimum = MINIMUM_CHARGE.get(currency, 1)
    if amount < minimum:
        raise invalid_request(
            f"Amount must be at least {minimum} {currency}",
            code="amount_too_small",
            param="amount",
            stored=False,
        )
    if p.string(params, "capture_method") not in (None, "automatic", "automatic_async"):
        raise parameter_invalid("capture_method", "The sandbox captures automatically only.")
    confirm = p.boolean(params, "confirm")
    off_session = p.boolean(params, "off_session")
    if off_session and not confirm:
        raise parameter_invalid(
            "off_session", "You can only use `off_session` when `confirm` is true."
        )
    customer_id = p.string(params, "customer")
    customer = _customer(request.store, customer_id, "customer") if customer_id else None
    metadata = p.metadata(params)
    description = p.string(params, "description")
    receipt_email = p.string(params, "receipt_email")
    transfer_group = p.string(params, "transfer_group")
    payment_method_id = p.string(params, "payment_method")
    # Mint a PaymentMethod from a test token only once every parameter has been read.
    method = (
        _payment_method_for(request.store, payment_method_id, "payment_method")
        if payment_method_id
        else None
    )
    if method is not None and method["customer"] not in (None, customer_id):
        raise invalid_request(
            f"The provided PaymentMethod belongs to a different customer than {customer_id}.",
            param="payment_method",
        )
    if confirm and method is None:
        raise invalid_request(
            "You cannot confirm this PaymentIntent because it's missing a payment method.",
            code="payment_intent_unexpected_state",
            param="payment_method",
        )
    intent_id = new_id("pi")
    intent = {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_received": 0,
        "capture_method": "automatic",
        "client_secret": f"{intent_id}_secret_{secrets.token_urlsafe(18)}",
        "confirmation_method": "automatic",
        "created": request.store.now(),
        "currency": currency,
        "customer": customer["id"] if customer else None,
        "description": description,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "metadata": metadata,
        "next_action": None,
        "payment_method": method["id"] if method else None,
        "payment_method_types": ["card"],
        "receipt_email": receipt_email,
        "status": "requires_confirmation" if method else "requires_payment_method",
        "transfer_group": transfer_group,
    }
    request.store.add(intent)
    request.store.emit("payment_intent.created", intent, request.context)
    if confirm:
        assert method is not None
        _confirm(request, intent, method)
    return intent


def payment_intent_confirm(request: ApiRequest) -> dict[str, Any]:
    """POST /v1/payment_intents/{id}/confirm."""
    p.only(request.params, {"payment_method", "off_session", "error_on_requires_action"})
    p.boolean(request.params, "off_session")
    intent = _intent(request.store, request.path_params["id"])
    if intent["status"] not in ("requires_confirmation", "requires_payment_method"):
        raise invalid_request(
            f"This PaymentIntent's status is {intent['status']}, so it cannot be confirmed.",
            code="payment_intent_unexpected_state",
        )
    payment_method_id = p.string(request.params, "payment_method") or intent["payment_method"]
    if payment_method_id is None:
        raise invalid_request(
            "You cannot confirm this PaymentIntent because it's missing a payment method.",
            code="payment_intent_unexpected_state",
            param="payment_method",
        )
    method = _payment_method_for(request.store, payment_method_id, "payment_method")
    intent["payment_method"] = method["id"]
    _confirm(request, intent, method)
    return intent


def payment_intent_retrieve(request: ApiRequest) -> dict[str, Any]:
    """GET /v1/payment_intents/{id}."""
    p.only(request.params, {"client_secret"})
    return _intent(request.store, request.path_params["id"])


def payment_intent_list(request: ApiRequest) -> dict[str, Any]:
    """GET /v1/payment_intents, optionally by customer."""
    p.only(request.params, LIST_PARAMS | {"customer", "created"})
    items = range_filter(request.store.all("payment_intent"), request.params, "created")
    customer_id = p.string(request.params, "customer")
    if customer_id is not None:
        items = [item for item in items if item["customer"] == customer_id]
    return paginate(items, request.params, "/v1/payment_intents", "payment_intent")


def _intent(store: Store, intent_id: str) -> dict[str, Any]:
    intent = store.get(intent_id, "payment_intent")
    if intent is None:
        raise resource_missing("payment_intent", intent_id)
    return intent


def _confirm(request: ApiRequest, intent: dict[str, Any], method: dict[str, Any]) -> None:
    """Charge the card: succeed into the balance, or decline with Stripe's 402."""
    store = request.store
    decline_code = _DECLINE_BY_LAST4.get(method["card"]["last4"])
    charge = charges.charge_create(store, intent, method, decline_code)
    intent["latest_charge"] = charge["id"]
    if decline_code is None:
        transaction = balance_post(
            store,
            owner=PLATFORM,
            amount=intent["amount"],
            currency=intent["currency"],
            transaction_type="charge",
            source=charge["id"],
            description=intent["description"],
        )
        charge["balance_transaction"] = transaction["id"]
        intent.update(status="succeeded", amount_received=intent["amount"], last_payment_error=None)
        store.emit("charge.succeeded", charge, request.context)
        store.emit("payment_intent.succeeded", intent, request.context)
        return
    message = charges.DECLINE_MESSAGES[decline_code]
    intent["status"] = "requires_payment_method"
    intent["last_payment_error"] = {
        "type": "card_error",
        "code": "card_declined",
        "decline_code": decline_code,
        "message": message,
        "charge": charge["id"],
        "payment_method": copy.deepcopy(method),
    }
    store.emit("charge.failed", charge, request.context)
    store.emit("payment_intent.payment_failed", intent, request.context)
    raise StripeError(
        402,
        "card_error",
        message,
        code="card_declined",
        extra={
            "decline_code": decline_code,
            "charge": charge["id"],
            "payment_intent": copy.deepcopy(intent),
            "payment_method": copy.deepcopy(method),
        },
    )
