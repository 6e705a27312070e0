"""The simulated world: who exists, what was bought and declared, and the model of it.

The world is built through Accord's own services from one seeded `random.Random`, so a
seed names one world. The `Model` is the simulation's own record of what it asked
for — events it declared (by id, first occurrence wins), corrections, periods it saw
posted — kept apart from Accord's rows, so the invariants compare Accord against an
independent account of the same history rather than against its own counters.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from rest_framework.test import APIClient

from ledger.money import split_largest_remainder
from licensing.models import ApiKey, Creator, License, LicenseeOrganization, Offer, Work
from licensing.periods import period_of
from licensing.services.api_keys import api_key_create
from licensing.services.collections import collection_create
from licensing.services.creators import creator_create, finance_user_create
from licensing.services.offers import OfferTerms, offer_create
from licensing.services.organizations import organization_create
from licensing.services.purchases import license_purchase
from licensing.services.works import ShareSpec, work_create
from tests.payouts.builders import creator_onboard

EUR = "eur"
# Unit prices (minor unit) whose products with random units leave fractions of a micro,
# so the run's one rounding per (license, work, kind, period) is exercised.
UNIT_PRICES = ("0.0137", "0.042", "0.00091", "1.5", "0.333")


def month_start(period: str) -> dt.datetime:
    year, month = (int(part) for part in period.split("-"))
    return dt.datetime(year, month, 1, tzinfo=dt.UTC)


def period_after(period: str) -> str:
    start = month_start(period)
    return period_of((start + dt.timedelta(days=32)).replace(day=1))


def period_before(period: str) -> str:
    return period_of(month_start(period) - dt.timedelta(days=1))


@dataclass
class DeclaredEvent:
    organization_id: int
    event_id: str
    license_id: int
    work_id: int
    units: int
    occurred_at: dt.datetime
    flagged: bool  # what the simulation expects: reserved, unlicensed or out of term
    late: bool = False  # declared after its month closed: rated in the next open month

    @property
    def period(self) -> str:
        return period_of(self.occurred_at)


@dataclass
class Model:
    """What the simulation did, in its own words."""

    events: dict[tuple[int, str], DeclaredEvent] = field(default_factory=dict)
    # (license, work, period it counts in) -> signed units of adjustments
    adjustments: dict[tuple[int, int, str], int] = field(default_factory=dict)
    closed: set[str] = field(default_factory=set)
    posted_runs: dict[str, int] = field(default_factory=dict)  # period -> run id
    purchases: dict[str, str] = field(default_factory=dict)  # request key -> license id
    topups_minor: int = 0
    steps: list[str] = field(default_factory=list)
    card_changes: int = 0  # cards put on file by the simulation (names their keys)
    declined_invoices: set[str] = field(default_factory=set)  # by public id
    retried_paid: set[str] = field(default_factory=set)  # declined, then paid by a retry

    def next_open_period(self, period: str) -> str:
        candidate = period_after(period)
        while candidate in self.closed:
            candidate = period_after(candidate)
        return candidate


@dataclass
class World:
    seed: int
    rng: random.Random
    periods: tuple[str, ...]  # the three whole months before this one, oldest first
    creators: list[Creator]
    works: list[Work]
    reserved_work: Work
    per_unit_offers: list[Offer]
    pool_offer: Offer
    flat_offers: list[Offer]
    clearance_use: str
    card_org: LicenseeOrganization
    invoice_org: LicenseeOrganization
    rated_licenses: list[License]  # per-unit and pool, in force since the first period
    clients: dict[int, APIClient]  # organisation id -> its API client
    finance: list[Any]
    finance_clients: list[APIClient]
    model: Model = field(default_factory=Model)
    # The choices added with the late debit and the declining card, drawn apart from
    # `rng` so that they do not shift the choices scripted tests seed `rng` for.
    rng_added: random.Random = field(default_factory=random.Random)
    # period -> (license, work) -> rated units the model holds when its usage closed
    units_at_post: dict[str, dict[tuple[int, int], int]] = field(default_factory=dict)
    # A `slow` fault was armed in this step: Stripe may still be working after we rest.
    slow_armed: bool = False
    # (organisation, event id) -> the body last sent, to send it again as a retry
    last_bodies: dict[tuple[int, str], dict] = field(default_factory=dict)

    @property
    def organizations(self) -> list[LicenseeOrganization]:
        return [self.card_org, self.invoice_org]


def _client(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


def _shares(rng: random.Random, owners: list[Creator]) -> list[ShareSpec]:
    weights = {index: rng.randint(1, 9) for index in range(len(owners))}
    points = split_largest_remainder(10_000, weights)
    return [ShareSpec(owners[index], points[index]) for index in weights]


def world_build(seed: int, control: Any, *, now: dt.datetime) -> World:
    """Build the seed's catalogue, organisations and backdated rated licenses."""
    rng = random.Random(seed)
    tag = f"s{seed}"
    last = period_before(period_of(now))
    periods = (period_before(period_before(last)), period_before(last), last)
    creators = [
        creator_create(username=f"{tag}-creator-{index}", payout_currency=EUR)
        for index in range(rng.randint(3, 5))
    ]
    lead = creators[0]
    works = []
    for index in range(rng.randint(3, 4)):
        owners = [lead, *rng.sample(creators[1:], rng.randint(0, min(2, len(creators) - 1)))]
        works.append(
            work_create(
                creator=lead,
                title=f"{tag} work {index}",
                kind=rng.choice(["text", "image", "audio"]),
                identifiers={"sha256": f"{rng.getrandbits(256):064x}"},
                shares=_shares(rng, owners),
            )
        )
    reserved = work_create(creator=lead, title=f"{tag} kept back", kind="text", reserved=True)
    collection = collection_create(creator=lead, title=f"{tag} pool", works=works[:2])

    def offer(terms: OfferTerms, *, work: Work | None, use: str) -> Offer:
        return offer_create(
            creator=lead,
            work=work,
            collection=None if work else collection,
            use=use,
            terms=terms,
            status=Offer.Status.ACTIVE,
        )

    per_unit = [
        offer(
            OfferTerms(
                pricing="per_unit",
                currency=EUR,
                unit="token",
                unit_amount_decimal=Decimal(rng.choice(UNIT_PRICES)),
                minimum_amount=rng.choice([None, 150, 900]),
            ),
            work=work,
            use="ai-eval",
        )
        for work in works[:2]
    ]
    pool = offer(
        OfferTerms(pricing="pool", currency=EUR, amount=rng.randint(2_000, 9_999), term_days=30),
        work=None,
        use="ai-input",
    )
    flat = [
        offer(
            OfferTerms(
                pricing="flat", currency=EUR, amount=rng.randint(500, 20_000), term_days=365
            ),
            work=work,
            use=use,
        )
        for work in works
        for use in ("ai-train", "ai-finetune")
    ]
    card_org = organization_create(
        slug=f"{tag}-card", billing="card", payment_method="pm_card_visa", currency=EUR
    )
    invoice_org = organization_create(slug=f"{tag}-invoice", billing="invoice", currency=EUR)
    for creator in creators:
        if creator is not creators[-1] or rng.random() < 0.5:  # one may never onboard
            creator_onboard(creator, control)
    first_day = month_start(periods[0])
    rated = []
    for organization in (card_org, invoice_org):
        for per_unit_offer in per_unit:
            rated.append(
                license_purchase(
                    organization=organization,
                    offer_id=per_unit_offer.public_id,
                    work_ids=None,
                    at=first_day + dt.timedelta(hours=rng.randint(0, 72)),
                    request_key=f"{tag}-rated-{organization.pk}-{per_unit_offer.pk}",
                )
            )
    rated.append(
        license_purchase(
            organization=rng.choice([card_org, invoice_org]),
            offer_id=pool.public_id,
            work_ids=None,
            at=first_day + dt.timedelta(days=rng.randint(0, 20)),
            request_key=f"{tag}-pool",
        )
    )
    finance = [finance_user_create(username=f"{tag}-finance-{i}") for i in range(2)]
    finance_clients = []
    for user in finance:
        _, raw_key = api_key_create(kind=ApiKey.Kind.FINANCE, user=user)
        finance_clients.append(_client(raw_key))
    clients = {}
    for organization in (card_org, invoice_org):
        _, raw_key = api_key_create(kind=ApiKey.Kind.ORGANIZATION, organization=organization)
        clients[organization.pk] = _client(raw_key)
    return World(
        seed=seed,
        rng=rng,
        rng_added=random.Random(seed + 1_000_003),
        periods=periods,
        creators=creators,
        works=works,
        reserved_work=reserved,
        per_unit_offers=per_unit,
        pool_offer=pool,
        flat_offers=flat,
        clearance_use="ai-finetune",
        card_org=card_org,
        invoice_org=invoice_org,
        rated_licenses=rated,
        clients=clients,
        finance=finance,
        finance_clients=finance_clients,
    )
