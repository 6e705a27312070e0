"""Dataset clearances: a mixed manifest counted and priced exactly, bought as single purchases."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from ledger.models import Entry, Transaction
from licensing.certificates.keys import public_jwks
from licensing.certificates.signing import certificate_verify
from licensing.errors import LicensingError
from licensing.models import (
    Clearance,
    ClearanceItem,
    InvoiceLine,
    License,
    LicenseeOrganization,
    Purchase,
)
from licensing.services.clearance_purchases import clearance_purchase
from licensing.services.clearances import clearance_create, identifiers_normalize
from licensing.services.offers import offer_update, offer_withdraw
from licensing.services.organizations import organization_create
from licensing.services.purchases import license_purchase
from licensing.services.works import work_reserve
from payouts.stripe import gateway
from tests.licensing.clearance_catalogue import (
    USE,
    ClearanceCatalogue,
    clearance_catalogue,
    mixed_manifest,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(db: Any) -> ClearanceCatalogue:
    return clearance_catalogue()


def _hold(catalogue: ClearanceCatalogue, organization: LicenseeOrganization) -> License:
    return license_purchase(
        organization=organization, offer_id=catalogue.held_offer.public_id, work_ids=None
    )


def _clear(catalogue: ClearanceCatalogue, organization: LicenseeOrganization) -> Clearance:
    _hold(catalogue, organization)
    return clearance_create(organization=organization, use=USE, items=mixed_manifest(catalogue))


def test_a_mixed_manifest_is_counted_and_quoted_exactly(
    catalogue: ClearanceCatalogue, invoice_org: LicenseeOrganization
) -> None:
    clearance = _clear(catalogue, invoice_org)

    counts = {s: getattr(clearance, f"{s}_count") for s in ClearanceItem.Status.values}
    assert counts == {"licensable": 6, "licensed": 1, "reserved": 3, "unknown": 2}
    assert clearance.items_count == 12
    # by_sha 10.00 once (named twice), by_isbn's cheaper 6.00, the pool 30.00 once, per unit 0.
    assert (clearance.quote_amount, clearance.currency) == (4_600, "eur")
    assert (clearance.quote_works, clearance.quote_offers) == (5, 4)
    assert clearance.expires_at == clearance.created_at + timedelta(hours=24) or (
        abs(clearance.expires_at - clearance.created_at - timedelta(hours=24))
        < timedelta(seconds=5)
    )
    tokens = sorted(
        [
            "sha256:" + "a" * 64,
            catalogue.by_sha.public_id,
            "isbn:9780306406157",
            "doi:10.1000/xyz123",
            "isrc:USS1Z9900001",
            "url:https://example.com/a.txt",
            *(f"sha256:{c * 64}" for c in "bcdef"),
            "isbn:9783161484100",
        ]
    )
    assert clearance.manifest_sha256 == hashlib.sha256("\n".join(tokens).encode()).hexdigest()
    items = {
        item.identifier: (item.status, item.reason, item.offer_id, item.amount)
        for item in clearance.items.all()
    }
    assert items["isbn:9780306406157"] == ("licensable", "", catalogue.isbn_cheap.pk, 600)
    assert items["url:https://example.com/a.txt"][:2] == ("reserved", "reserved_by_creator")
    assert items["sha256:" + "b" * 64][:2] == ("reserved", "not_offered")
    assert items["sha256:" + "c" * 64][:2] == ("reserved", "not_offered")
    assert items["sha256:" + "e" * 64][0] == "licensed"
    assert items["sha256:" + "f" * 64][0] == "unknown"
    pool_amounts = [items["doi:10.1000/xyz123"][3], items["isrc:USS1Z9900001"][3]]
    assert sorted(pool_amounts) == [0, 3_000]
    assert sum(amount or 0 for *_, amount in items.values()) == clearance.quote_amount


def test_malformed_identifiers_are_each_named_and_nothing_is_written(
    catalogue: ClearanceCatalogue, invoice_org: LicenseeOrganization
) -> None:
    manifest = [
        "sha256:" + "a" * 64,
        "sha256:xyz",
        42,
        "isbn:978-0-306-40615-8",  # a wrong check digit
        "nokind",
        "doi:10.1000/a\x00b",  # the DOI pattern allows it; PostgreSQL text cannot hold it
    ]

    with pytest.raises(LicensingError) as raised:
        clearance_create(organization=invoice_org, use=USE, items=manifest)

    assert raised.value.code == "identifiers_invalid"
    assert [problem["index"] for problem in raised.value.details] == [1, 2, 3, 4, 5]
    assert not Clearance.objects.exists()
    assert not ClearanceItem.objects.exists()


def test_a_manifest_of_digests_alone_reads_as_entry_by_entry() -> None:
    digests = [hashlib.sha256(str(n).encode()).hexdigest() for n in range(50)]
    plain = [f"sha256:{d.upper() if n % 3 else d}" for n, d in enumerate(digests)] * 2

    # A space around one entry is the entry-by-entry path's to strip: same identifiers.
    assert identifiers_normalize(plain) == identifiers_normalize([*plain, f" {plain[0]}"])
    assert identifiers_normalize(plain) == sorted(("sha256", d) for d in digests)
    for malformed in ("sha256:" + "g" * 64, f"{plain[0]}\n{plain[1]}"):
        with pytest.raises(LicensingError) as raised:
            identifiers_normalize([*plain, malformed, *plain])
        assert [problem["index"] for problem in raised.value.details] == [100], malformed
    seen: list[tuple[str, int, int]] = []
    identifiers_normalize(plain, progress=lambda *report: seen.append(report))
    assert seen == [("normalise", 100, 100)]


@pytest.mark.parametrize(
    ("use", "items", "param"),
    [("ai-train", [], "items"), ("ai-train", "sha256:x", "items"), ("ai-dance", ["x"], "use")],
)
def test_empty_list_and_unknown_use_are_refused(
    invoice_org: LicenseeOrganization, use: str, items: Any, param: str
) -> None:
    with pytest.raises(LicensingError) as raised:
        clearance_create(organization=invoice_org, use=use, items=items)

    assert (raised.value.http_status, raised.value.param) == (400, param)
    assert not Clearance.objects.exists()


def _legs(granted: License) -> list[tuple[str, int]]:
    """A license's sale legs, with the license's and the buyer's ids blanked out."""
    if granted.ledger_transaction_id is None:
        return []
    transaction = Transaction.objects.get(pk=granted.ledger_transaction_id)
    legs = Entry.objects.filter(transaction=transaction).select_related("account")
    return sorted(
        (
            leg.account.code.replace(granted.public_id, "LIC").replace(
                granted.organization.public_id, "ORG"
            ),
            leg.amount_micros,
        )
        for leg in legs
    )


def _by_offer(licenses: list[License]) -> dict[str, dict[str, Any]]:
    return {
        granted.offer_version.offer.public_id: {
            "amount": granted.amount,
            "commission_basis_points": granted.commission_basis_points,
            "works": sorted(granted.works.values_list("public_id", flat=True)),
            "version": granted.offer_version_id,
            "term": granted.ends_at - granted.starts_at if granted.ends_at else None,
            "legs": _legs(granted),
            "invoiced": InvoiceLine.objects.filter(license=granted)
            .values_list("amount", flat=True)
            .first(),
        }
        for granted in licenses
    }


def test_purchase_grants_what_single_purchases_would_to_the_micro(
    catalogue: ClearanceCatalogue, invoice_org: LicenseeOrganization
) -> None:
    clearance = _clear(catalogue, invoice_org)

    bought = clearance_purchase(organization=invoice_org, clearance_id=clearance.public_id)

    assert bought.amount == 4_600
    assert len(bought.licenses) == 4
    cleared = list(License.objects.filter(public_id__in=bought.licenses))
    # The same four offers bought one by one by another organisation on the same billing.
    other = organization_create(slug="other-lab", name="Other Lab", billing="invoice")
    singles = [
        license_purchase(organization=other, offer_id=offer.public_id, work_ids=None)
        for offer in (
            catalogue.sha_offer,
            catalogue.isbn_cheap,
            catalogue.pool_offer,
            catalogue.per_unit_offer,
        )
    ]
    assert _by_offer(cleared) == _by_offer(singles)
    assert dict(_by_offer(cleared)[catalogue.sha_offer.public_id]["legs"]) == {
        f"creator:{catalogue.alice.public_id}:payable:eur": -6_000_300,
        f"creator:{catalogue.bob.public_id}:payable:eur": -2_999_700,
        "organization:ORG:receivable:eur": 10_000_000,
        "platform:commission:eur": -1_000_000,
    }
    assert sum(line.amount for line in InvoiceLine.objects.filter(organization=invoice_org)) == (
        4_600 + 500  # the clearance, and the license held before it
    )
    clearance.refresh_from_db()
    assert clearance.status == Clearance.Status.PURCHASED
    licensed_items = clearance.items.filter(status="licensable")
    assert not licensed_items.filter(license__isnull=True).exists()


def test_purchasing_twice_returns_the_first_answer(
    catalogue: ClearanceCatalogue, invoice_org: LicenseeOrganization
) -> None:
    clearance = _clear(catalogue, invoice_org)
    first = clearance_purchase(organization=invoice_org, clearance_id=clearance.public_id)
    licenses_after_first = License.objects.count()

    again = clearance_purchase(organization=invoice_org, clearance_id=clearance.public_id)

    assert again.licenses == first.licenses
    assert again.amount == first.amount
    assert License.objects.count() == licenses_after_first


def test_card_purchase_is_one_payment_intent(
    catalogue: ClearanceCatalogue, card_org: LicenseeOrganization
) -> None:
    clearance = _clear(catalogue, card_org)

    bought = clearance_purchase(organization=card_org, clearance_id=clearance.public_id)

    clearance.refresh_from_db()
    intent = gateway.payment_intent_retrieve(payment_intent_id=clearance.payment_intent_id)
    assert (intent.status, intent.amount, intent.currency) == ("succeeded", 4_600, "eur")
    assert intent.metadata["accord_clearance"] == clearance.public_id
    purchases = Purchase.objects.filter(license__public_id__in=bought.licenses)
    assert {purchase.payment_intent_id for purchase in purchases} == {intent.id}
    debits = Entry.objects.filter(
        account__code="platform:stripe_balance:eur",
        transaction__reference__in=[f"license:{lic}" for lic in bought.licenses],
    )
    assert sum(entry.amount_micros for entry in debits) == 46_000_000
    assert not InvoiceLine.objects.filter(license__public_id__in=bought.licenses).exists()


def test_declined_card_is_402_and_nothing_is_bought(
    catalogue: ClearanceCatalogue, declining_org: LicenseeOrganization
) -> None:
    clearance = clearance_create(
        organization=declining_org, use=USE, items=mixed_manifest(catalogue)
    )

    for _ in range(2):  # and the same answer again
        with pytest.raises(LicensingError) as raised:
            clearance_purchase(organization=declining_org, clearance_id=clearance.public_id)
        assert (raised.value.http_status, raised.value.code) == (402, "payment_failed")

    assert not License.objects.exists()
    assert not Transaction.objects.exists()
    clearance.refresh_from_db()
    assert clearance.status == Clearance.Status.FAILED
    assert clearance.certificate == ""


def test_quote_expires_after_24_hours(
    catalogue: ClearanceCatalogue, invoice_org: LicenseeOrganization
) -> None:
    clearance = _clear(catalogue, invoice_org)
    licenses_before = License.objects.count()

    with pytest.raises(LicensingError) as raised:
        clearance_purchase(
            organization=invoice_org,
            clearance_id=clearance.public_id,
            at=timezone.now() + timedelta(hours=24, seconds=1),
        )

    assert (raised.value.http_status, raised.value.code) == (409, "quote_expired")
    assert License.objects.count() == licenses_before


@pytest.mark.parametrize("change", ["new_version", "withdrawn", "edited_in_place", "reserved"])
def test_a_changed_offer_refuses_the_purchase(
    catalogue: ClearanceCatalogue, invoice_org: LicenseeOrganization, change: str
) -> None:
    clearance = _clear(catalogue, invoice_org)
    licenses_before = License.objects.count()
    if change == "new_version":  # a version someone bought is never edited: a new one comes
        other = organization_create(slug="other-lab", name="Other Lab", billing="invoice")
        license_purchase(organization=other, offer_id=catalogue.sha_offer.public_id, work_ids=None)
        licenses_before += 1
        offer_update(offer=catalogue.sha_offer, terms={"amount": 1_100})
    elif change == "withdrawn":
        offer_withdraw(offer=catalogue.pool_offer)
    elif change == "edited_in_place":  # nobody bought this version: corrected in place
        offer_update(offer=catalogue.isbn_cheap, terms={"amount": 650})
    else:
        work_reserve(work=catalogue.by_isbn)

    with pytest.raises(LicensingError) as raised:
        clearance_purchase(organization=invoice_org, clearance_id=clearance.public_id)

    assert (raised.value.http_status, raised.value.code) == (409, "quote_changed")
    assert License.objects.count() == licenses_before
    clearance.refresh_from_db()
    assert clearance.status == Clearance.Status.READY


def _payload(token: str) -> dict[str, Any]:
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def test_certificate_verifies_with_the_jwks_alone_and_not_after_one_changed_byte(
    catalogue: ClearanceCatalogue, invoice_org: LicenseeOrganization
) -> None:
    clearance = _clear(catalogue, invoice_org)
    bought = clearance_purchase(organization=invoice_org, clearance_id=clearance.public_id)
    clearance.refresh_from_db()
    jwks = json.loads(json.dumps(public_jwks()))  # what a verifier downloads

    check = certificate_verify(clearance.certificate, jwks=jwks)

    assert check.valid, check.problems
    statement = check.statement
    assert statement["clearance"] == clearance.public_id
    assert statement["manifest_sha256"] == clearance.manifest_sha256
    assert (statement["use"], statement["licensee"]["id"]) == (USE, invoice_org.public_id)
    items = dict(statement["items"])
    assert len(items) == 12
    held = License.objects.get(offer_version__offer=catalogue.held_offer)
    assert items["sha256:" + "e" * 64] == held.public_id
    assert items["isbn:9780306406157"] in bought.licenses
    assert items["url:https://example.com/a.txt"] == "reserved"
    assert items["isbn:9783161484100"] == "unknown"
    header, payload, signature = clearance.certificate.split(".")
    changed = payload[:10] + ("A" if payload[10] != "A" else "B") + payload[11:]
    tampered = certificate_verify(f"{header}.{changed}.{signature}", jwks=jwks)
    assert not tampered.signature_valid
