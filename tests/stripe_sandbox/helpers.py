"""Small builders the sandbox tests share: they go through the SDK like any caller."""

from __future__ import annotations

import stripe

from tests.fixtures.stripe_sandbox import SandboxControl


def onboarded_account(client: stripe.StripeClient, control: SandboxControl) -> stripe.Account:
    """Create an express account and complete its onboarding page."""
    account = client.v1.accounts.create({"type": "express", "country": "DE"})
    link = client.v1.account_links.create(
        {"account": account.id, "type": "account_onboarding", "return_url": "http://accord/back"}
    )
    assert control.complete_onboarding(link.url) == 303
    return account


def fund_platform(client: stripe.StripeClient, amount: int, currency: str = "eur") -> None:
    """Add to the platform's available balance with a top-up."""
    client.v1.topups.create({"amount": amount, "currency": currency})


def available(
    client: stripe.StripeClient, currency: str = "eur", account: str | None = None
) -> int:
    """Return the available balance in one currency (a connected account's with `account`)."""
    options: stripe.RequestOptions = {"stripe_account": account} if account else {}
    balance = client.v1.balance.retrieve(options=options)
    return sum(entry.amount for entry in balance.available if entry.currency == currency)
