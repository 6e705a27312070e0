"""Demo catalogue: four creators, three hundred works, every pricing model, one reservation.

`demo_catalogue_load()` is idempotent: creators and their catalogues are made once
(a creator who already has works is left alone), while the demo API keys are minted
afresh on every run, the previous demo key of each login being revoked, so the keys
printed are always the ones that work.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction

from config.demo import DEMO_PASSWORD, DemoLogin
from licensing.models import ApiKey, Creator, Offer, Use, Work
from licensing.services.api_keys import api_key_create, api_key_revoke
from licensing.services.collections import collection_create
from licensing.services.creators import creator_create, finance_user_create
from licensing.services.offers import (
    OfferTerms,
    offer_create,
    offer_update,
    offer_version_mark_licensed,
)
from licensing.services.works import ShareSpec, work_create, work_reserve, work_update

DEMO_KEY_NAME = "demo"
WORKS_PER_CREATOR = 75
FINANCE_USERNAME = "finance"

_ADJECTIVES = ("Quiet", "Amber", "Northern", "Hollow", "Silver", "Late", "Open", "Broken",
               "Distant", "Small", "Bright", "Second")  # fmt: skip
_NOUNS = ("Harbour", "Garden", "Signal", "Archive", "Orchard", "River", "Letters", "Atlas",
          "Machine", "Choir", "Window", "Season", "Lantern")  # fmt: skip


@dataclass(frozen=True)
class DemoCreator:
    username: str
    display_name: str
    country: str
    currency: str
    kinds: tuple[str, ...]


DEMO_CREATORS = (
    DemoCreator("ada", "Ada Lovelace Press", "GB", "gbp", ("text", "text", "dataset")),
    DemoCreator("bach", "Bach & Daughters Studio", "DE", "eur", ("audio", "audio", "video")),
    DemoCreator("cartier", "Cartier Photo Collective", "FR", "eur", ("image", "image", "video")),
    DemoCreator("dijkstra", "Dijkstra Open Code", "NL", "usd", ("code", "dataset", "text")),
)


def _digits(seed: str, count: int) -> str:
    digest = hashlib.sha256(seed.encode()).hexdigest()
    return "".join(str(int(char, 16) % 10) for char in digest)[:count]


def _isbn13(seed: str) -> str:
    body = "978" + _digits(seed, 9)
    total = sum(int(digit) * (3 if index % 2 else 1) for index, digit in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _identifiers(spec: DemoCreator, index: int, kind: str) -> dict[str, str]:
    seed = f"accord-demo:{spec.username}:{index}"
    identifiers = {"sha256": hashlib.sha256(seed.encode()).hexdigest()}
    if kind == "audio":
        identifiers["isrc"] = f"DE{spec.username[:3].upper()}26{_digits(seed, 5)}"
    elif kind == "text":
        identifiers["isbn"] = _isbn13(seed)
    elif kind in ("dataset", "code"):
        identifiers["doi"] = f"10.5555/{spec.username}.{index}"
    if kind in ("image", "video", "code") or index % 4 == 0:
        identifiers["url"] = f"https://{spec.username}.example/works/{index}"
    return identifiers


def _title(index: int) -> str:
    adjective = _ADJECTIVES[index % len(_ADJECTIVES)]
    noun = _NOUNS[(index // len(_ADJECTIVES)) % len(_NOUNS)]
    return f"{adjective} {noun} {index + 1}"


def _offer_terms(index: int, currency: str) -> tuple[str, OfferTerms] | None:
    """A varied but deterministic offer for the index-th work (or none)."""
    pattern = index % 6
    if pattern == 0:
        return Use.AI_TRAIN, OfferTerms(
            pricing="flat", currency=currency, amount=2_500 + 100 * index, term_days=365
        )
    if pattern == 1:
        return Use.AI_INPUT, OfferTerms(
            pricing="per_unit",
            currency=currency,
            unit="retrieval",
            unit_amount_decimal=Decimal("0.042"),
            minimum_amount=500,
            attribution_required=True,
        )
    if pattern == 2:
        return Use.AI_FINETUNE, OfferTerms(
            pricing="flat", currency=currency, amount=12_000, term_days=180, commercial=False
        )
    if pattern == 3:
        return Use.AI_TRAIN, OfferTerms(
            pricing="per_unit",
            currency=currency,
            unit="token",
            unit_amount_decimal=Decimal("0.0003"),
        )
    if pattern == 4:
        return Use.AI_EVAL, OfferTerms(
            pricing="per_unit", currency=currency, unit="item", unit_amount_decimal=Decimal("0.5")
        )
    return None


def _catalogue_create(creator: Creator, spec: DemoCreator, co_owner: Creator | None) -> None:
    works: list[Work] = []
    for index in range(WORKS_PER_CREATOR):
        kind = spec.kinds[index % len(spec.kinds)]
        shares = None
        if co_owner is not None and index % 10 == 5:
            shares = [
                ShareSpec(creator=creator, basis_points=6_000),
                ShareSpec(creator=co_owner, basis_points=4_000),
            ]
        work = work_create(
            creator=creator,
            title=_title(index),
            kind=kind,
            identifiers=_identifiers(spec, index, kind),
            shares=shares,
        )
        works.append(work)
        offer = _offer_terms(index, spec.currency)
        if offer is not None:
            use, terms = offer
            status = Offer.Status.DRAFT if index % 17 == 0 else Offer.Status.ACTIVE
            offer_create(creator=creator, work=work, use=use, terms=terms, status=status)
    collection = collection_create(
        creator=creator, title=f"{spec.display_name}: the complete catalogue", works=works[40:70]
    )
    offer_create(
        creator=creator,
        collection=collection,
        use=Use.AI_TRAIN,
        status=Offer.Status.ACTIVE,
        terms=OfferTerms(pricing="pool", currency=spec.currency, amount=500_000, term_days=365),
    )
    # One offer bought once and then repriced: version 1 stays as sold, version 2 is current.
    repriced = Offer.objects.filter(work=works[6], status=Offer.Status.ACTIVE).first()
    if repriced is not None:
        offer_version_mark_licensed(offer_version=repriced.current_version)
        offer_update(offer=repriced, terms={"amount": repriced.current_version.amount + 500})


def _creator_ensure(spec: DemoCreator, password: str) -> Creator:
    creator = Creator.objects.filter(user__username=spec.username).first()
    if creator is None:
        creator = creator_create(
            username=spec.username,
            email=f"{spec.username}@accord.example",
            password=password,
            display_name=spec.display_name,
            payout_currency=spec.currency,
            country=spec.country,
        )
    return creator


def _demo_key_mint(*, kind: str, creator: Creator | None = None, user: object = None) -> str:
    previous = ApiKey.objects.filter(name=DEMO_KEY_NAME, revoked_at__isnull=True, kind=kind)
    previous = (
        previous.filter(creator=creator) if creator is not None else previous.filter(user=user)
    )
    for api_key in previous:
        api_key_revoke(api_key=api_key)
    _, raw_key = api_key_create(kind=kind, creator=creator, user=user, name=DEMO_KEY_NAME)
    return raw_key


def demo_catalogue_load() -> list[DemoLogin]:
    """Load the demo catalogue once; return the logins with freshly minted API keys."""
    logins: list[DemoLogin] = []
    with transaction.atomic():
        creators = [_creator_ensure(spec, DEMO_PASSWORD) for spec in DEMO_CREATORS]
        for position, (creator, spec) in enumerate(zip(creators, DEMO_CREATORS, strict=True)):
            if not creator.works.exists():
                co_owner = creators[(position + 1) % len(creators)]
                _catalogue_create(creator, spec, co_owner)
            reserved = creator.works.order_by("id").first()
            if position == 0 and reserved is not None and not reserved.reserved:
                work_update(work=reserved, title="Private notebooks (reserved)")
                work_reserve(work=reserved)
            key = _demo_key_mint(kind=ApiKey.Kind.CREATOR, creator=creator)
            logins.append(
                DemoLogin(
                    role="creator", username=spec.username, password=DEMO_PASSWORD, api_key=key
                )
            )
        finance = get_user_model().objects.filter(username=FINANCE_USERNAME).first()
        if finance is None:
            finance = finance_user_create(username=FINANCE_USERNAME, password=DEMO_PASSWORD)
        key = _demo_key_mint(kind=ApiKey.Kind.FINANCE, user=finance)
        logins.append(
            DemoLogin(
                role="finance", username=FINANCE_USERNAME, password=DEMO_PASSWORD, api_key=key
            )
        )
    return logins
