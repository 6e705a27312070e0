"""The suite's factories (factory_boy): catalogue and licensee rows built by the real services.

Each factory's `_create` calls the service a client's request would reach, so a row a
test builds obeys every rule the services keep (normalised identifiers, shares that
total 10,000, terms that fit their pricing, an organisation's Stripe customer) and
nothing is written behind their back. Override any field by keyword:

    work = WorkFactory(creator=alice, title="Harbour", identifiers={"sha256": "b" * 64})
    offer = OfferFactory(work=work, terms=OfferTermsFactory(amount=700, currency="usd"))
    pool = OfferFactory(work=None, collection=collection, terms=OfferTermsFactory(pool=True))
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import factory

from licensing.models import ApiKey, Collection, Creator, LicenseeOrganization, Offer, Work
from licensing.services.api_keys import api_key_create
from licensing.services.collections import collection_create
from licensing.services.creators import creator_create
from licensing.services.offers import OfferTerms, offer_create
from licensing.services.organizations import organization_create
from licensing.services.works import work_create


class CreatorFactory(factory.Factory):
    class Meta:
        model = Creator

    username = factory.Sequence(lambda number: f"creator{number}")
    password = None

    @classmethod
    def _create(cls, model_class: type, **fields: Any) -> Creator:
        return creator_create(**fields)


class WorkFactory(factory.Factory):
    class Meta:
        model = Work

    creator = factory.SubFactory(CreatorFactory)
    title = factory.Sequence(lambda number: f"Work {number}")
    kind = "text"

    @classmethod
    def _create(cls, model_class: type, **fields: Any) -> Work:
        return work_create(**fields)


class CollectionFactory(factory.Factory):
    class Meta:
        model = Collection

    creator = factory.SubFactory(CreatorFactory)
    title = factory.Sequence(lambda number: f"Collection {number}")
    works = factory.LazyFunction(list)

    @classmethod
    def _create(cls, model_class: type, **fields: Any) -> Collection:
        return collection_create(**fields)


class OfferTermsFactory(factory.Factory):
    """Terms of an offer version: flat by default; `per_unit=True` or `pool=True`."""

    class Meta:
        model = OfferTerms

    pricing = "flat"
    currency = "eur"
    amount = 1_250
    term_days = 365

    class Params:
        per_unit = factory.Trait(
            pricing="per_unit",
            amount=None,
            term_days=None,
            unit="token",
            unit_amount_decimal=Decimal("0.042"),
        )
        pool = factory.Trait(pricing="pool", amount=3_000, term_days=30)


class OfferFactory(factory.Factory):
    """An active offer on a work (its creator's) or, with `work=None`, on a collection."""

    class Meta:
        model = Offer

    work = factory.SubFactory(WorkFactory)
    collection = None
    creator = factory.LazyAttribute(lambda offer: (offer.work or offer.collection).creator)
    use = "ai-train"
    terms = factory.SubFactory(OfferTermsFactory)
    status = Offer.Status.ACTIVE

    @classmethod
    def _create(cls, model_class: type, **fields: Any) -> Offer:
        return offer_create(**fields)


class OrganizationFactory(factory.Factory):
    """A licensee organisation billed by invoice; `billing="card"` needs the sandbox."""

    class Meta:
        model = LicenseeOrganization

    slug = factory.Sequence(lambda number: f"lab-{number}")
    name = None
    billing = LicenseeOrganization.Billing.INVOICE
    payment_method = factory.LazyAttribute(
        lambda organization: "pm_card_visa" if organization.billing == "card" else None
    )

    @classmethod
    def _create(cls, model_class: type, **fields: Any) -> LicenseeOrganization:
        return organization_create(**fields)


def api_key_for(owner: Creator | LicenseeOrganization) -> str:
    """Mint a key for a creator or an organisation; return the raw key."""
    if isinstance(owner, Creator):
        _, raw_key = api_key_create(kind=ApiKey.Kind.CREATOR, creator=owner)
    else:
        _, raw_key = api_key_create(kind=ApiKey.Kind.ORGANIZATION, organization=owner)
    return raw_key
