"""Create what `bench.usage` declares usage against: works, per-unit licenses, a key.

Run in the benchmark's own database (`python -m bench._usage_setup WORKS`); prints one
JSON object: the licensee's API key and, per license, its id and its work's id.
Everything is made by the real services (a license agreed ten days ago, as
`create_license` records one), so the ingest resolves real rows.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import timedelta
from decimal import Decimal

import django

TERM_STARTED_DAYS_AGO = 10


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.utils import timezone

    from licensing.models import ApiKey, Offer
    from licensing.services.api_keys import api_key_create
    from licensing.services.creators import creator_create
    from licensing.services.offers import OfferTerms, offer_create
    from licensing.services.organizations import organization_create
    from licensing.services.purchases import license_purchase
    from licensing.services.works import work_create

    works = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    creator = creator_create(username="bench-creator", password=None)
    organization = organization_create(slug="bench-lab", billing="invoice", currency="eur")
    terms = OfferTerms(
        pricing="per_unit", currency="eur", unit="token", unit_amount_decimal=Decimal("0.042")
    )
    started = timezone.now() - timedelta(days=TERM_STARTED_DAYS_AGO)
    licenses = []
    for index in range(works):
        work = work_create(creator=creator, title=f"Bench work {index}", kind="text")
        offer = offer_create(
            creator=creator, use="ai-eval", work=work, terms=terms, status=Offer.Status.ACTIVE
        )
        granted = license_purchase(
            organization=organization, offer_id=offer.public_id, work_ids=None, at=started
        )
        licenses.append([granted.public_id, work.public_id])
    _, raw_key = api_key_create(kind=ApiKey.Kind.ORGANIZATION, organization=organization)
    print(json.dumps({"api_key": raw_key, "licenses": licenses}))


if __name__ == "__main__":
    main()
