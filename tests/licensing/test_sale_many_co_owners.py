"""A sale to 150 co-owners is one balanced posting, exact to the micro.

The ledger refused more than 100 legs, so a work with 99 or 100 co-owners (plus the
debit and the commission) could not be sold. Here a collection's two works have 150
distinct co-owners between them, one of them on both works, and the sale posts 152
legs: on PostgreSQL past the scalar statement's leg count, through the array one.
"""

from __future__ import annotations

from typing import Any

import pytest

from ledger.inserts import SCALAR_LEGS_MAX
from ledger.models import Entry, Transaction
from licensing.models import Creator
from licensing.services.purchases import license_purchase
from licensing.services.works import ShareSpec
from tests.factories import (
    CollectionFactory,
    CreatorFactory,
    OfferFactory,
    OfferTermsFactory,
    OrganizationFactory,
    WorkFactory,
)

pytestmark = pytest.mark.django_db


def _payable(creator: Creator) -> str:
    return f"creator:{creator.public_id}:payable:eur"


def _smallest_ids(creators: list[Creator], count: int) -> set[str]:
    """Who wins equal remainders: the smaller creator ids (the split's documented tie-break)."""
    return set(sorted(creator.public_id for creator in creators)[:count])


def test_a_sale_to_150_co_owners_posts_every_share_to_the_micro(db: Any) -> None:
    creators = [CreatorFactory() for _ in range(150)]
    first, both, second = creators[:99], creators[99], creators[100:]
    # Work A: 99 co-owners at 99 bp and one (`both`) at 199 bp.
    work_a = WorkFactory(
        creator=creators[0],
        shares=[ShareSpec(c, 99) for c in first] + [ShareSpec(both, 199)],
    )
    # Work B: `both` again at 200 bp and 50 others at 196 bp.
    work_b = WorkFactory(
        creator=creators[0],
        shares=[ShareSpec(both, 200)] + [ShareSpec(c, 196) for c in second],
    )
    collection = CollectionFactory(creator=creators[0], works=[work_a, work_b])
    offer = OfferFactory(
        creator=creators[0],
        work=None,
        collection=collection,
        terms=OfferTermsFactory(amount=333, term_days=90),  # 3.33 eur per work
    )
    organization = OrganizationFactory()

    granted = license_purchase(
        organization=organization,
        offer_id=offer.public_id,
        work_ids=[work_a.public_id, work_b.public_id],
    )

    transaction = Transaction.objects.get(pk=granted.ledger_transaction_id)
    legs = {
        entry.account.code: entry.amount_micros
        for entry in Entry.objects.filter(transaction=transaction).select_related("account")
    }
    # Each work: 3,330,000 micros, 333,000 commission, 2,997,000 to its owners.
    # A: 99 bp is 29,670.3 and 199 bp 59,640.3; the 30 micros left go to the 30 smallest
    # ids among A's 100 co-owners. B: 196 bp is 58,741.2, 200 bp exactly 59,940; the 10
    # micros left go to the 10 smallest ids among B's 50 at 196 bp.
    a_winners = _smallest_ids([*first, both], 30)
    b_winners = _smallest_ids(second, 10)
    expected = {
        f"organization:{organization.public_id}:receivable:eur": 6_660_000,
        "platform:commission:eur": -666_000,
    }
    for creator in first:
        expected[_payable(creator)] = -(29_670 + (creator.public_id in a_winners))
    expected[_payable(both)] = -(59_640 + (both.public_id in a_winners) + 59_940)
    for creator in second:
        expected[_payable(creator)] = -(58_741 + (creator.public_id in b_winners))
    assert len(legs) == 152 > SCALAR_LEGS_MAX
    assert legs == expected
    assert sum(legs.values()) == 0
    assert granted.amount == 666
