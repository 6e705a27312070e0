"""The hosted onboarding page an AccountLink's `url` opens.

On Stripe, a creator follows the AccountLink to a Stripe-hosted form, fills it in,
and is sent back to the platform's `return_url`. The sandbox serves a one-page
stand-in at `/_sandbox/onboarding/<token>`: GET shows a form, POSTing the form
completes onboarding (see `accounts.onboarding_complete`) and redirects to
`return_url`. Like Stripe's, a link works once and expires after five minutes; a
used or expired link sends the visitor to `refresh_url` to get a new one.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from stripe_sandbox import forms
from stripe_sandbox.accounts import onboarding_complete
from stripe_sandbox.store import OnboardingLink, Store

PATH_PREFIX = "/_sandbox/onboarding/"
BUSINESS_NAME_CHARS_MAX = 200


@dataclass(frozen=True)
class Page:
    """An HTML answer, or a redirect when `location` is set."""

    status: int
    body: str = ""
    location: str | None = None


def _html(title: str, content: str) -> str:
    return (
        '<!doctype html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>\n<body>\n<h1>{html.escape(title)}</h1>\n"
        f"{content}\n</body></html>\n"
    )


def _usable_link(store: Store, token: str) -> tuple[OnboardingLink | None, Page | None]:
    link = store.onboarding_links.get(token)
    if link is None:
        return None, Page(
            404, _html("Link not found", "<p>This onboarding link does not exist.</p>")
        )
    if link.used or link.expires_at < store.now():
        if link.refresh_url:
            return None, Page(303, location=link.refresh_url)
        return None, Page(
            410, _html("Link expired", "<p>This onboarding link was used or has expired.</p>")
        )
    return link, None


def show(store: Store, token: str) -> Page:
    """Render the onboarding form for a link (GET)."""
    with store.lock:
        link, problem = _usable_link(store, token)
        if problem is not None:
            return problem
        assert link is not None
        account = store.get(link.account, "account")
        assert account is not None
        name = account["business_profile"].get("name") or ""
    form = (
        f"<p>Stripe sandbox onboarding for account <code>{html.escape(link.account)}</code>.</p>\n"
        f'<form method="post" action="{PATH_PREFIX}{html.escape(token)}">\n'
        f'<label>Business name <input name="business_name" value="{html.escape(name)}"></label>\n'
        '<input type="hidden" name="agree" value="true">\n'
        '<button type="submit">Agree and submit</button>\n</form>'
    )
    return Page(200, _html("Set up payouts", form))


def submit(store: Store, token: str, body: str) -> Page:
    """Complete onboarding from the submitted form (POST) and send the visitor back."""
    try:
        fields = forms.decode(body)
    except forms.FormError:
        return Page(400, _html("Bad form", "<p>The form could not be read.</p>"))
    if fields.get("agree") != "true":
        return Page(400, _html("Agreement needed", "<p>Submit the form to accept the terms.</p>"))
    business_name = fields.get("business_name")
    if not isinstance(business_name, str) or len(business_name) > BUSINESS_NAME_CHARS_MAX:
        business_name = None
    with store.lock:
        link, problem = _usable_link(store, token)
        if problem is not None:
            return problem
        assert link is not None
        onboarding_complete(store, link, business_name or None)
        return_url = link.return_url
    if return_url:
        return Page(303, location=return_url)
    return Page(200, _html("Onboarding complete", "<p>You can close this page.</p>"))
