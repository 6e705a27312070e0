"""Demo licensees, and the purchases the demo's main job makes through the sandbox.

The sandbox keeps its state in memory, so a customer made by an earlier demo run is
gone when the demo starts again: each run puts a fresh card on file for the card
organisation (as a licensee updating an expired card would). A second run buys
nothing: it finds the license each organisation already holds of each offer. The
fixed request keys alone would not do, because `license_purchase` keeps a request key
only when it charges a card; an invoiced or free license would be granted (and, if
priced, posted to the ledger) again.
"""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model

from config.demo import DEMO_PASSWORD, DemoLogin
from licensing.currencies import major_amount_format
from licensing.models import ApiKey, License, LicenseeOrganization, Offer, OfferVersion
from licensing.services.api_keys import api_key_create, api_key_revoke
from licensing.services.organizations import (
    organization_card_replace,
    organization_create,
    organization_member_add,
)
from licensing.services.purchases import license_purchase

DEMO_KEY_NAME = "demo"
DEMO_ORGANIZATIONS = (
    ("openlab", "OpenLab AI", LicenseeOrganization.Billing.CARD),
    ("northwind", "Northwind Models", LicenseeOrganization.Billing.INVOICE),
)


def _organization_ensure(slug: str, name: str, billing: str) -> LicenseeOrganization:
    organization = LicenseeOrganization.objects.filter(slug=slug).first()
    if organization is None:
        return organization_create(
            slug=slug, name=name, billing=billing, payment_method="pm_card_visa"
        )
    if billing == LicenseeOrganization.Billing.CARD:
        return organization_card_replace(
            organization=organization,
            payment_method="pm_card_visa",
            idempotency_key=secrets.token_hex(8),
        )
    return organization


def _demo_key_mint(organization: LicenseeOrganization) -> str:
    for api_key in ApiKey.objects.filter(
        organization=organization, name=DEMO_KEY_NAME, revoked_at__isnull=True
    ):
        api_key_revoke(api_key=api_key)
    _, raw_key = api_key_create(
        kind=ApiKey.Kind.ORGANIZATION, organization=organization, name=DEMO_KEY_NAME
    )
    return raw_key


def demo_licensees_load() -> list[DemoLogin]:
    """Create the demo organisations and their members; return logins with fresh keys."""
    logins = []
    for slug, name, billing in DEMO_ORGANIZATIONS:
        organization = _organization_ensure(slug, name, billing)
        username = f"{slug}-admin"
        if not get_user_model().objects.filter(username=username).exists():
            get_user_model().objects.create_user(username, password=DEMO_PASSWORD)
        organization_member_add(organization=organization, username=username)
        logins.append(
            DemoLogin(
                role=f"licensee ({billing})",
                username=username,
                password=DEMO_PASSWORD,
                api_key=_demo_key_mint(organization),
            )
        )
    return logins


def _first_offer(pricing: str) -> Offer:
    return (
        Offer.objects.filter(
            status=Offer.Status.ACTIVE,
            current_version__pricing=pricing,
            current_version__currency="eur",
        )
        .select_related("current_version")
        .order_by("id")
        .first()
    )


def _license_held(organization: LicenseeOrganization, offer: Offer) -> License | None:
    """The license of this offer an earlier demo run bought for the organisation, if any."""
    return (
        License.objects.filter(organization=organization, offer_version__offer=offer)
        .order_by("id")
        .first()
    )


def _license_buy(organization: LicenseeOrganization, offer: Offer, pricing: str) -> License:
    works = None
    if offer.collection_id and pricing != OfferVersion.Pricing.POOL:
        works = list(
            offer.collection.works.filter(reserved=False).values_list("public_id", flat=True)[:3]
        )
    return license_purchase(
        organization=organization,
        offer_id=offer.public_id,
        work_ids=works,
        request_key=f"demo-{organization.slug}-{pricing}",
    )


def demo_purchases_run() -> str:
    """Buy one license of every pricing model for each demo organisation (once)."""
    bought = []
    for slug, _, _ in DEMO_ORGANIZATIONS:
        organization = LicenseeOrganization.objects.get(slug=slug)
        for pricing in OfferVersion.Pricing.values:
            offer = _first_offer(pricing)
            if offer is None:
                continue
            held = _license_held(organization, offer)
            granted = held or _license_buy(organization, offer, pricing)
            price = major_amount_format(granted.amount, granted.currency)
            note = " (held already)" if held else ""
            bought.append(f"{slug} {pricing} {price} {granted.currency}{note}")
    return "licenses bought: " + "; ".join(bought)
