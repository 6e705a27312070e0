"""Connect accounts (type express) and AccountLinks, with onboarding.

A new account cannot receive transfers: its `transfers` capability is `inactive`
until someone completes the onboarding page that an AccountLink's `url` opens.
That is the Stripe rule Accord must live with (a creator who has not finished
onboarding cannot be paid), so the sandbox keeps it. Completing onboarding turns
`details_submitted`, `charges_enabled` and `payouts_enabled` true, activates the
requested capabilities and sends `account.updated`.
"""

from __future__ import annotations

import copy
import secrets
from typing import Any

from stripe_sandbox import params as p
from stripe_sandbox.errors import invalid_request, parameter_invalid, resource_missing
from stripe_sandbox.listing import LIST_PARAMS, paginate, range_filter
from stripe_sandbox.request import ApiRequest
from stripe_sandbox.store import OnboardingLink, RequestContext, Store, new_id

ACCOUNT_TYPES = ("express", "standard", "custom")
LINK_TYPES = ("account_onboarding", "account_update")
LINK_LIFETIME_SECONDS = 300
# What the platform's Connect settings would request when the call names none.
DEFAULT_CAPABILITIES = ("transfers",)
_EURO_COUNTRIES = frozenset(
    [
        "AT",
        "BE",
        "CY",
        "DE",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PT",
        "SI",
        "SK",
    ]
)
_COUNTRY_CURRENCY = {"US": "usd", "GB": "gbp", "CA": "cad", "AU": "aud", "CH": "chf", "JP": "jpy"}
_REQUIREMENTS_DUE = [
    "business_profile.url",
    "business_type",
    "external_account",
    "tos_acceptance.date",
    "tos_acceptance.ip",
]


def _default_currency(country: str) -> str:
    if country in _EURO_COUNTRIES:
        return "eur"
    return _COUNTRY_CURRENCY.get(country, "usd")


def _requested_capabilities(params: dict[str, Any]) -> list[str]:
    requested = []
    for name, options in p.hash_param(params, "capabilities").items():
        if not isinstance(options, dict) or options.get("requested") not in ("true", "false"):
            raise parameter_invalid(
                f"capabilities[{name}]",
                f"Invalid capabilities[{name}][requested]: must be true or false.",
            )
        if options["requested"] == "true":
            requested.append(name)
    return requested or list(DEFAULT_CAPABILITIES)


def account_create(request: ApiRequest) -> dict[str, Any]:
    """POST /v1/accounts."""
    params = request.params
    p.only(
        params,
        {
            "type",
            "country",
            "email",
            "business_type",
            "business_profile",
            "capabilities",
            "metadata",
            "default_currency",
        },
    )
    account_type = p.required_string(params, "type")
    if account_type not in ACCOUNT_TYPES:
        raise parameter_invalid("type", f"Invalid type: must be one of {', '.join(ACCOUNT_TYPES)}")
    country = (p.string(params, "country") or "US").upper()
    profile = p.hash_param(params, "business_profile")
    account = {
        "id": new_id("acct"),
        "object": "account",
        "type": account_type,
        "country": country,
        "email": p.string(params, "email"),
        "business_type": p.string(params, "business_type"),
        "business_profile": {
            "name": profile.get("name"),
            "url": profile.get("url"),
            "mcc": profile.get("mcc"),
            "product_description": profile.get("product_description"),
        },
        "capabilities": {name: "inactive" for name in _requested_capabilities(params)},
        "charges_enabled": False,
        "payouts_enabled": False,
        "details_submitted": False,
        "default_currency": (
            p.string(params, "default_currency") or _default_currency(country)
        ).lower(),
        "requirements": _requirements(_REQUIREMENTS_DUE),
        "tos_acceptance": {"date": None},
        "metadata": p.metadata(params),
        "created": request.store.now(),
    }
    return request.store.add(account)


def account_retrieve(request: ApiRequest) -> dict[str, Any]:
    """GET /v1/accounts/{id}."""
    p.only(request.params, ())
    account_id = request.path_params["id"]
    account = request.store.get(account_id, "account")
    if account is None:
        raise resource_missing("account", account_id)
    return account


def account_list(request: ApiRequest) -> dict[str, Any]:
    """GET /v1/accounts."""
    p.only(request.params, LIST_PARAMS | {"created"})
    items = range_filter(request.store.all("account"), request.params, "created")
    return paginate(items, request.params, "/v1/accounts", "account")


def platform_account_retrieve(request: ApiRequest) -> dict[str, Any]:
    """GET /v1/account: the platform itself, fully enabled (it is Accord's own account)."""
    p.only(request.params, ())
    return {
        "id": "acct_sandbox_platform",
        "object": "account",
        "type": "standard",
        "country": "US",
        "default_currency": "usd",
        "charges_enabled": True,
        "payouts_enabled": True,
        "details_submitted": True,
    }


def account_link_create(request: ApiRequest) -> dict[str, Any]:
    """POST /v1/account_links: a one-time link to the sandbox's onboarding page."""
    params = request.params
    p.only(
        params, {"account", "type", "refresh_url", "return_url", "collect", "collection_options"}
    )
    account_id = p.required_string(params, "account")
    link_type = p.required_string(params, "type")
    if link_type not in LINK_TYPES:
        raise parameter_invalid("type", f"Invalid type: must be one of {', '.join(LINK_TYPES)}")
    if request.store.get(account_id, "account") is None:
        raise resource_missing("account", account_id, param="account")
    created = request.store.now()
    token = secrets.token_urlsafe(18)
    request.store.onboarding_links[token] = OnboardingLink(
        account=account_id,
        link_type=link_type,
        refresh_url=p.string(params, "refresh_url"),
        return_url=p.string(params, "return_url"),
        expires_at=created + LINK_LIFETIME_SECONDS,
    )
    # An AccountLink has no id on Stripe either: it is a short-lived URL, not a resource.
    return {
        "object": "account_link",
        "created": created,
        "expires_at": created + LINK_LIFETIME_SECONDS,
        "url": f"{request.base_url}/_sandbox/onboarding/{token}",
    }


_WATCHED = (
    "details_submitted",
    "charges_enabled",
    "payouts_enabled",
    "capabilities",
    "requirements",
)


def _requirements(due: list[str]) -> dict[str, Any]:
    return {
        "currently_due": list(due),
        "eventually_due": list(due),
        "past_due": list(due),
        "pending_verification": [],
        "disabled_reason": "requirements.past_due" if due else None,
        "current_deadline": None,
        "errors": [],
    }


def _set_enabled(account: dict[str, Any], enabled: bool) -> None:
    account["charges_enabled"] = enabled
    account["payouts_enabled"] = enabled
    state = "active" if enabled else "inactive"
    account["capabilities"] = {name: state for name in account["capabilities"]}
    account["requirements"] = _requirements([] if enabled else ["external_account"])


def _account_updated(store: Store, account: dict[str, Any], previous: dict[str, Any]) -> None:
    # Connect events carry the connected account's id, as Stripe sends them to Connect endpoints.
    store.emit(
        "account.updated",
        account,
        RequestContext(),
        previous_attributes=previous,
        account=account["id"],
    )


def onboarding_complete(
    store: Store, link: OnboardingLink, business_name: str | None
) -> dict[str, Any]:
    """Mark the link's account as onboarded and send `account.updated`; call with the lock held."""
    if link.used:
        raise invalid_request("This account link has already been used.")
    account = store.get(link.account, "account")
    assert account is not None, "accounts are never deleted while links exist"
    previous = {key: copy.deepcopy(account[key]) for key in _WATCHED}
    account["details_submitted"] = True
    _set_enabled(account, True)
    account["tos_acceptance"] = {"date": store.now()}
    if business_name:
        previous["business_profile"] = copy.deepcopy(account["business_profile"])
        account["business_profile"]["name"] = business_name
    link.used = True
    _account_updated(store, account, previous)
    return account


def payouts_set(store: Store, account_id: str, enabled: bool) -> dict[str, Any] | None:
    """Turn an onboarded account's payouts off (requirements past due) or on again.

    What Stripe does when a connected account falls behind on its requirements: its
    capabilities go inactive and `account.updated` says `payouts_enabled: false`.
    Returns None for an unknown account; sends nothing when nothing changes; raises
    ValueError for enabling an account that never finished onboarding.
    """
    with store.lock:
        account = store.get(account_id, "account")
        if account is None:
            return None
        if enabled and not account["details_submitted"]:
            raise ValueError("the account has not completed onboarding: follow an AccountLink")
        if account["payouts_enabled"] == enabled:
            return copy.deepcopy(account)
        previous = {key: copy.deepcopy(account[key]) for key in _WATCHED}
        _set_enabled(account, enabled)
        _account_updated(store, account, previous)
        return copy.deepcopy(account)
