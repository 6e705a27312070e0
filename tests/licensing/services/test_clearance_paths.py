"""The clearance's two paths, one statement on PostgreSQL and the ORM elsewhere, agree.

`clearance_record` runs either on PostgreSQL (`in_sql`), so both clear the same
manifest against the same catalogue and must write the same items, counts, quote and
digest; the digest the statement takes must also be the one the purchase takes again
from the rows (`quote_digest_now`), or every purchase would be `quote_changed`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from licensing.models import Clearance, ClearanceItem, LicenseeOrganization, Offer
from licensing.services import clearance_statement
from licensing.services.clearance_quotes import (
    DIGEST_ITEM_FIELDS,
    quote_digest_now,
    quoted_version_pks,
)
from licensing.services.clearances import clearance_record, identifiers_normalize
from licensing.services.collections import collection_create
from licensing.services.offers import OfferTerms, offer_create
from licensing.services.purchases import license_purchase
from licensing.services.works import work_create
from tests.licensing.clearance_catalogue import (
    USE,
    ClearanceCatalogue,
    clearance_catalogue,
    mixed_manifest,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the statement is PostgreSQL's"),
]
TOTALS = (
    "manifest_sha256",
    "items_count",
    "licensable_count",
    "licensed_count",
    "reserved_count",
    "unknown_count",
    "quote_amount",
    "quote_works",
    "quote_offers",
    "expires_at",
    "quote_digest",
)


@pytest.fixture
def catalogue(db: Any) -> ClearanceCatalogue:
    return clearance_catalogue()


def _both(
    organization: LicenseeOrganization, manifest: list[str], at: datetime | None = None
) -> tuple[Clearance, Clearance, int]:
    """The ORM's clearance, the statement's, and how often the statement hashed in Python."""
    identifiers, at = identifiers_normalize(manifest), at or timezone.now()
    with transaction.atomic():
        orm = clearance_record(organization, USE, identifiers, at, in_sql=False)
    in_python = []

    def spy(clearance: Clearance, version_pks: Any) -> str:
        in_python.append(clearance.pk)
        return quote_digest_now(clearance, version_pks)

    with pytest.MonkeyPatch.context() as patch, transaction.atomic():
        patch.setattr(clearance_statement, "quote_digest_now", spy)
        sql = clearance_record(organization, USE, identifiers, at, in_sql=True)
    return orm, sql, len(in_python)


def _items(clearance: Clearance) -> list[tuple]:
    return list(
        ClearanceItem.objects.filter(clearance=clearance)
        .order_by("position")
        .values_list(*DIGEST_ITEM_FIELDS)
    )


def _same(orm: Clearance, sql: Clearance) -> None:
    for clearance in (orm, sql):
        clearance.refresh_from_db()
    assert _items(sql) == _items(orm)
    assert [getattr(sql, name) for name in TOTALS] == [getattr(orm, name) for name in TOTALS]
    assert quote_digest_now(sql, quoted_version_pks(sql)) == sql.quote_digest


def test_both_paths_clear_the_mixed_manifest_alike(
    catalogue: ClearanceCatalogue, invoice_org: LicenseeOrganization
) -> None:
    license_purchase(
        organization=invoice_org, offer_id=catalogue.held_offer.public_id, work_ids=None
    )

    orm, sql, hashed_in_python = _both(invoice_org, mixed_manifest(catalogue))

    _same(orm, sql)
    assert hashed_in_python == 0  # PostgreSQL took the digest
    counts = [sql.licensable_count, sql.licensed_count, sql.reserved_count, sql.unknown_count]
    assert counts == [6, 1, 3, 2]
    assert (sql.quote_amount, sql.quote_works, sql.quote_offers) == (4_600, 5, 4)


def test_both_paths_agree_on_a_pool_cheaper_than_a_work_and_a_license_ended(
    catalogue: ClearanceCatalogue, invoice_org: LicenseeOrganization
) -> None:
    # A second pool, at 1.00, covers by_sha and by_isbn for less than their own offers;
    # and the license held (365 days) has ended when this manifest is cleared.
    cheap_pool = collection_create(
        creator=catalogue.alice, title="Cheap", works=[catalogue.by_sha, catalogue.by_isbn]
    )
    offer_create(
        creator=catalogue.alice,
        work=None,
        collection=cheap_pool,
        use=USE,
        terms=OfferTerms(pricing="pool", currency="eur", amount=100, term_days=7),
        status=Offer.Status.ACTIVE,
    )
    license_purchase(
        organization=invoice_org, offer_id=catalogue.held_offer.public_id, work_ids=None
    )

    later = timezone.now() + timedelta(days=400)
    orm, sql, hashed_in_python = _both(invoice_org, mixed_manifest(catalogue), later)

    _same(orm, sql)
    assert hashed_in_python == 0
    items = {item.identifier: item for item in sql.items.all()}
    assert items["sha256:" + "a" * 64].offer.collection_id == cheap_pool.pk
    assert items["sha256:" + "e" * 64].status == "licensable"  # the license held ended
    assert sql.licensed_count == 0


def test_an_identifier_python_quotes_otherwise_falls_back_to_the_rows(
    catalogue: ClearanceCatalogue, invoice_org: LicenseeOrganization
) -> None:
    # A quote, a backslash and a non-ASCII letter: repr() escapes or keeps them in ways
    # the statement does not copy, so the digest comes from the rows, still the same.
    odd = work_create(
        creator=catalogue.alice, title="Odd", kind="text", identifiers={"doi": "10.1000/it's"}
    )
    offer_create(
        creator=catalogue.alice,
        work=odd,
        collection=None,
        use=USE,
        terms=OfferTerms(
            pricing="per_unit", currency="eur", unit="token", unit_amount_decimal=Decimal("0.0420")
        ),
        status=Offer.Status.ACTIVE,
    )
    manifest = [*mixed_manifest(catalogue), "doi:10.1000/it's", "doi:10.1000/a\\b", "doi:10.1000/é"]

    orm, sql, hashed_in_python = _both(invoice_org, manifest)

    _same(orm, sql)
    assert hashed_in_python == 1
    assert sql.items.get(identifier="doi:10.1000/it's").status == "licensable"


def test_printable_letters_beyond_ascii_are_hashed_by_postgresql(
    catalogue: ClearanceCatalogue, invoice_org: LicenseeOrganization
) -> None:
    # repr() keeps a printable letter as it is, so the statement's text is still exact.
    manifest = [*mixed_manifest(catalogue), "doi:10.1000/é", "url:https://example.com/ü?q=[1]"]

    orm, sql, hashed_in_python = _both(invoice_org, manifest)

    _same(orm, sql)
    assert hashed_in_python == 0
    assert sql.unknown_count == 4


def test_one_transaction_makes_two_clearances_and_keeps_no_manifest_table(
    catalogue: ClearanceCatalogue, invoice_org: LicenseeOrganization
) -> None:
    identifiers, at = identifiers_normalize(mixed_manifest(catalogue)), timezone.now()

    with transaction.atomic():
        first = clearance_record(invoice_org, USE, identifiers, at, in_sql=True)
        second = clearance_record(invoice_org, USE, identifiers[1:], at, in_sql=True)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT to_regclass(%s)", [f"pg_temp.{clearance_statement.MANIFEST_TABLE}"]
            )
            assert cursor.fetchone() == (None,)

    assert (first.items_count, second.items_count) == (len(identifiers), len(identifiers) - 1)
    assert ClearanceItem.objects.filter(clearance=second).count() == len(identifiers) - 1
