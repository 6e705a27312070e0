"""The import paths issue 12 moved keep working until the parallel branches have merged.

Each old path is an alias of the new module (so monkeypatching through it patches the
code that runs) or re-exports its names. Delete this file with the shims.
"""

from __future__ import annotations

import importlib

import pytest

ALIASES = {
    "licensing.organizations": "licensing.services.organizations",
    "licensing.payments": "licensing.services.card_payments",
    "licensing.purchases": "licensing.services.purchases",
    "licensing.admin_licensees": "licensing.admin.licensees",
    "payouts.webhooks": "payouts.stripe.webhooks",
    "payouts.payment_events": "payouts.stripe.handlers",
    "payouts.card_payments": "payouts.stripe.card_payments",
    "payouts.views": "payouts.stripe.views",
}

RE_EXPORTS = {
    "licensing.licenses": {
        "license_statement": "licensing.selectors.licenses",
        "license_works": "licensing.selectors.licenses",
        "WORKS_LISTED": "licensing.selectors.licenses",
        "licenses_expire": "licensing.services.licenses",
        "license_revoke": "licensing.services.licenses",
    },
    "licensing.api_keys": {
        "api_key_resolve": "licensing.selectors.api_keys",
        "KEY_PREFIX": "licensing.selectors.api_keys",
        "api_key_generate": "licensing.services.api_keys",
    },
    "licensing.selectors": {
        "work_get": "licensing.selectors.works",
        "offer_version_is_licensed": "licensing.selectors.offers",
        "creator_ledger_accounts": "licensing.selectors.creators",
    },
    "payouts.stripe_gateway": {
        "transfer_create": "payouts.stripe.gateway",
        "GatewayError": "payouts.stripe.errors",
        "Transfer": "payouts.stripe.results",
        "NETWORK_RETRIES_MAX": "payouts.stripe.gateway",
    },
    "payouts.demo": {"DemoLogin": "config.demo", "DEMO_PASSWORD": "config.demo"},
}


@pytest.mark.parametrize(("old", "new"), ALIASES.items())
def test_an_old_module_path_is_the_new_module(old: str, new: str) -> None:
    assert importlib.import_module(old) is importlib.import_module(new)


@pytest.mark.parametrize(("old", "names"), RE_EXPORTS.items())
def test_an_old_module_re_exports_the_moved_names(old: str, names: dict[str, str]) -> None:
    module = importlib.import_module(old)
    for name, home in names.items():
        assert getattr(module, name) is getattr(importlib.import_module(home), name), name
