"""Test data for payouts: creators owed money by real sales, onboarded in the sandbox.

Money reaches the creators' payables the way it does in production today: a card
organisation buys a flat license on works that the creators co-own (up to 100
co-owners a work), so one Stripe charge funds the platform balance and one
`license-sale` posting credits every payable. The creators themselves are inserted
in bulk (a thousand `creator_create` calls would be most of a test's time).
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection

from ledger.money import split_largest_remainder
from licensing.models import Creator, License, Offer
from licensing.services.offers import OfferTerms, offer_create
from licensing.services.organizations import organization_create
from licensing.services.purchases import license_purchase
from licensing.services.works import ShareSpec, work_create
from payouts.models import PayoutAccount
from payouts.services.payout_accounts import payout_account_connect, payout_account_sync
from tests.fixtures.stripe_sandbox import SandboxControl

CO_OWNERS_PER_WORK = 50
# A price whose owners' part does not split into whole cents, so every payable
# keeps a sub-cent remainder: 200,001 cents times 90% over 50 = 3,600.018 cents each.
PRICE_PER_WORK = 200_001


def owed_micros(co_owners: int) -> int:
    """What each of `co_owners` equal co-owners of one work is owed after one sale."""
    owners_part = PRICE_PER_WORK * 10_000 * 9 // 10  # micros, after the 10% commission
    assert owners_part % co_owners == 0, "pick a group size that splits exactly"
    return owners_part // co_owners


def payout_and_remainder(co_owners: int) -> tuple[int, int]:
    """(cents paid, micros left on payable) for each of `co_owners` co-owners."""
    owed = owed_micros(co_owners)
    return owed // 10_000, owed % 10_000


@dataclass
class Funded:
    creators: list[Creator]
    licenses: list[License]

    @property
    def charged(self) -> int:
        return sum(granted.amount for granted in self.licenses)


def creators_bulk_create(count: int, *, currency: str = "eur") -> list[Creator]:
    tag = uuid.uuid4().hex[:8]
    user_model = get_user_model()
    users = user_model.objects.bulk_create(
        [user_model(username=f"c{index}-{tag}", is_staff=True) for index in range(count)]
    )
    if connection.vendor != "postgresql":  # bulk_create sets pks on PostgreSQL only
        users = list(user_model.objects.filter(username__endswith=f"-{tag}").order_by("id"))
    creators = Creator.objects.bulk_create(
        [
            Creator(user=user, display_name=f"Creator {index}", payout_currency=currency)
            for index, user in enumerate(users)
        ]
    )
    found = Creator.objects.filter(user__in=users).select_related("user").order_by("id")
    return list(found)[: len(creators)]


def creators_fund(creators: list[Creator], *, currency: str = "eur") -> list[License]:
    """Sell flat licenses on works the creators co-own, charged to a card.

    One work and one license per `CO_OWNERS_PER_WORK` creators: a posting has at most
    100 legs, so one sale credits at most 98 payables.
    """
    organization = organization_create(
        slug=f"lab-{uuid.uuid4().hex[:8]}", billing="card", payment_method="pm_card_visa"
    )
    licenses = []
    for start in range(0, len(creators), CO_OWNERS_PER_WORK):
        group = creators[start : start + CO_OWNERS_PER_WORK]
        points = split_largest_remainder(10_000, {c.pk: 1 for c in group})
        work = work_create(
            creator=group[0],
            title=f"Work {start}",
            kind="text",
            shares=[ShareSpec(c, points[c.pk]) for c in group],
        )
        offer = offer_create(
            creator=group[0],
            work=work,
            use="ai-train",
            terms=OfferTerms(
                pricing="flat", currency=currency, amount=PRICE_PER_WORK, term_days=365
            ),
            status=Offer.Status.ACTIVE,
        )
        licenses.append(
            license_purchase(organization=organization, offer_id=offer.public_id, work_ids=None)
        )
    return licenses


def creator_onboard(creator: Creator, control: SandboxControl) -> PayoutAccount:
    """Connect with Stripe as the creator would: account, link, the hosted form."""
    connection_ = payout_account_connect(
        creator=creator, return_url="http://testserver/done", refresh_url="http://testserver/again"
    )
    assert connection_.onboarding_url
    assert control.complete_onboarding(connection_.onboarding_url) in {302, 303}
    account = payout_account_sync(stripe_account_id=connection_.account.stripe_account_id)
    assert account is not None
    assert account.ready
    return account


def creators_onboard(creators: list[Creator], control: SandboxControl, threads: int = 4) -> None:
    def onboard(creator: Creator) -> None:
        try:
            creator_onboard(creator, control)
        finally:
            connection.close()

    if connection.in_atomic_block:  # a test's transaction: other threads cannot see it
        for creator in creators:
            creator_onboard(creator, control)
        return
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(onboard, creators))


def funded_creators(count: int, control: SandboxControl, *, currency: str = "eur") -> Funded:
    creators = creators_bulk_create(count, currency=currency)
    licenses = creators_fund(creators, currency=currency)
    creators_onboard(creators, control)
    return Funded(creators=creators, licenses=licenses)
