"""Create what `bench.api` buys from: a creator, works with flat offers, a card licensee.

Run in the benchmark's own database (`python -m bench._api_setup`, with
`STRIPE_API_BASE` at the sandbox); prints one JSON object with the offer ids and the
licensee's API key. Everything is made by the real services, as an operator would.
"""

from __future__ import annotations

import json
import os

import django

WORKS = 50


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from licensing.certificates.keys import signing_key_current
    from licensing.models import ApiKey, Offer
    from licensing.services.api_keys import api_key_create
    from licensing.services.creators import creator_create
    from licensing.services.offers import OfferTerms, offer_create
    from licensing.services.organizations import organization_create
    from licensing.services.works import ShareSpec, work_create

    creator = creator_create(username="bench-creator", password=None)
    co_owner = creator_create(username="bench-co-owner", password=None)
    terms = OfferTerms(pricing="flat", currency="eur", amount=1_250, term_days=365)
    offers = []
    for index in range(WORKS):
        shares = [ShareSpec(creator, 7_000), ShareSpec(co_owner, 3_000)]
        work = work_create(creator=creator, title=f"Bench work {index}", kind="text", shares=shares)
        offer = offer_create(
            creator=creator, use="ai-train", work=work, terms=terms, status=Offer.Status.ACTIVE
        )
        offers.append(offer.public_id)
    organization = organization_create(
        slug="bench-lab", billing="card", currency="eur", payment_method="pm_card_visa"
    )
    _, raw_key = api_key_create(kind=ApiKey.Kind.ORGANIZATION, organization=organization)
    # A deployed server has its signing key; without one the first purchases race to make it.
    signing_key_current()
    print(json.dumps({"offers": offers, "api_key": raw_key}))


if __name__ == "__main__":
    main()
