"""The /v1 route table: which handler answers which method and path.

Paths are Stripe's own, so the official SDK finds every resource where it looks
on api.stripe.com. A path that exists with another method is a 405 on Stripe too;
anything else is Stripe's "Unrecognized request URL" 404.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from stripe_sandbox import accounts, balance, charges, events, payments, transfers
from stripe_sandbox.errors import StripeError, invalid_request
from stripe_sandbox.request import ApiRequest

Handler = Callable[[ApiRequest], dict[str, Any]]
_ID = r"(?P<id>[A-Za-z0-9_]+)"

_TABLE: list[tuple[str, str, Handler]] = [
    ("GET", "/v1/account", accounts.platform_account_retrieve),
    ("POST", "/v1/accounts", accounts.account_create),
    ("GET", "/v1/accounts", accounts.account_list),
    ("GET", f"/v1/accounts/{_ID}", accounts.account_retrieve),
    ("POST", "/v1/account_links", accounts.account_link_create),
    ("POST", "/v1/customers", payments.customer_create),
    ("GET", "/v1/customers", payments.customer_list),
    ("GET", f"/v1/customers/{_ID}", payments.customer_retrieve),
    ("POST", f"/v1/customers/{_ID}", payments.customer_update),
    ("GET", f"/v1/customers/{_ID}/payment_methods", payments.payment_method_list),
    ("GET", "/v1/payment_methods", payments.payment_method_list),
    ("GET", f"/v1/payment_methods/{_ID}", payments.payment_method_retrieve),
    ("POST", f"/v1/payment_methods/{_ID}/attach", payments.payment_method_attach),
    ("POST", "/v1/payment_intents", payments.payment_intent_create),
    ("GET", "/v1/payment_intents", payments.payment_intent_list),
    ("GET", f"/v1/payment_intents/{_ID}", payments.payment_intent_retrieve),
    ("POST", f"/v1/payment_intents/{_ID}/confirm", payments.payment_intent_confirm),
    ("GET", "/v1/charges", charges.charge_list),
    ("GET", f"/v1/charges/{_ID}", charges.charge_retrieve),
    ("POST", "/v1/transfers", transfers.transfer_create),
    ("GET", "/v1/transfers", transfers.transfer_list),
    ("GET", f"/v1/transfers/{_ID}", transfers.transfer_retrieve),
    ("POST", f"/v1/transfers/{_ID}", transfers.transfer_update),
    ("POST", f"/v1/transfers/{_ID}/reversals", transfers.reversal_create),
    ("GET", f"/v1/transfers/{_ID}/reversals", transfers.reversal_list),
    (
        "GET",
        f"/v1/transfers/{_ID}/reversals/(?P<reversal>[A-Za-z0-9_]+)",
        transfers.reversal_retrieve,
    ),
    ("POST", "/v1/topups", balance.topup_create),
    ("GET", "/v1/topups", balance.topup_list),
    ("GET", f"/v1/topups/{_ID}", balance.topup_retrieve),
    ("GET", "/v1/balance", balance.balance_retrieve),
    ("GET", "/v1/balance_transactions", balance.balance_transaction_list),
    ("GET", f"/v1/balance_transactions/{_ID}", balance.balance_transaction_retrieve),
    ("GET", "/v1/events", events.event_list),
    ("GET", f"/v1/events/{_ID}", events.event_retrieve),
]
_ROUTES = [
    # "GET /v1/transfers/{id}": how the stats name a route.
    (
        method,
        re.compile(pattern + r"/?\Z"),
        handler,
        f"{method} " + re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern),
    )
    for method, pattern, handler in _TABLE
]
UNROUTED = "(unrouted)"
# Endpoints that act on a connected account when called with a Stripe-Account header.
CONNECTED_ACCOUNT_HANDLERS = frozenset(
    {
        balance.balance_retrieve,
        balance.balance_transaction_list,
        balance.balance_transaction_retrieve,
    }
)


def patterns() -> list[tuple[str, re.Pattern[str]]]:
    """Return every (method, path pattern) the sandbox answers, for tests that cover them all."""
    return [(method, pattern) for method, pattern, _, _ in _ROUTES]


def resolve(method: str, path: str) -> tuple[Handler, dict[str, str], str]:
    """Return the handler, path parameters and route name, or raise Stripe's 404/405."""
    path_matched = False
    for route_method, pattern, handler, name in _ROUTES:
        match = pattern.match(path)
        if match is None:
            continue
        if route_method == method:
            return handler, match.groupdict(), name
        path_matched = True
    if path_matched:
        raise StripeError(
            405,
            "invalid_request_error",
            f"Unrecognized request URL ({method}: {path}). This method is not allowed.",
        )
    raise invalid_request(
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
        "or we can help at https://support.stripe.com/.",
        status=404,
        stored=False,
    )
