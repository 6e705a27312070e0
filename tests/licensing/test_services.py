"""The catalogue's rules, pinned at the services every entry point writes through."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from licensing.errors import LicensingError, LicensingErrorCode
from licensing.models import Collection, Offer, OfferVersion, RightsShare, Work
from licensing.selectors.offers import offer_version_get, offer_version_is_licensed
from licensing.selectors.works import work_get, work_offers_active
from licensing.services.collections import collection_create
from licensing.services.creators import creator_accounts_open
from licensing.services.offers import (
    offer_create,
    offer_delete,
    offer_publish,
    offer_update,
    offer_version_mark_licensed,
    offer_withdraw,
)
from licensing.services.works import (
    ShareSpec,
    rights_shares_set,
    work_create,
    work_delete,
    work_reserve,
    work_update,
)
from tests.licensing.conftest import flat_terms, per_unit_terms

pytestmark = pytest.mark.django_db


def _raises(code: LicensingErrorCode, param: str | None = None):
    class _Check:
        def __enter__(self) -> None:
            self.context = pytest.raises(LicensingError)
            self.info = self.context.__enter__()

        def __exit__(self, *exc: object) -> bool:
            handled = self.context.__exit__(*exc)
            assert self.info.value.code == code, self.info.value.code
            if param is not None:
                assert self.info.value.param == param, self.info.value.param
            return handled

    return _Check()


# --- Creators -------------------------------------------------------------------------


def test_a_creator_is_paid_through_a_ledger_account_opened_with_them(make_creator) -> None:
    from ledger.selectors import accounts_of_owner

    creator = make_creator("ada", payout_currency="gbp")

    accounts = accounts_of_owner(owner_type="creator", owner_id=creator.public_id)
    assert [(a.code, a.kind, a.currency) for a in accounts] == [
        (f"creator:{creator.public_id}:payable:gbp", "liability", "gbp")
    ]
    assert creator.user.is_staff
    assert not creator.user.is_superuser
    # Opening them again (a second currency later, a retry) is harmless.
    creator_accounts_open(creator=creator)
    assert len(accounts_of_owner(owner_type="creator", owner_id=creator.public_id)) == 1


# --- Works and shares -----------------------------------------------------------------


def test_a_new_work_belongs_wholly_to_its_creator(alice, make_work) -> None:
    work = make_work(alice)

    shares = list(work.shares.values_list("creator_id", "basis_points"))
    assert shares == [(alice.pk, 10_000)]
    assert work.public_id.startswith("wrk_")


def test_co_owners_must_total_ten_thousand_and_nothing_is_written(alice, bob) -> None:
    with _raises(LicensingErrorCode.SHARES_TOTAL_INVALID, "shares"):
        work_create(
            creator=alice,
            title="Duet",
            kind="audio",
            shares=[ShareSpec(alice, 5_000), ShareSpec(bob, 4_999)],
        )

    assert Work.objects.count() == 0
    assert RightsShare.objects.count() == 0


def test_shares_are_replaced_as_a_whole(alice, bob, make_creator, make_work) -> None:
    carol = make_creator("carol")
    work = make_work(alice)

    rights_shares_set(
        work=work,
        shares=[
            ShareSpec(alice, 3_334),
            ShareSpec(bob, 3_333),
            ShareSpec(carol, 3_333),
        ],
    )
    rights_shares_set(work=work, shares=[ShareSpec(bob, 2_500), ShareSpec(carol, 7_500)])

    assert dict(work.shares.values_list("creator_id", "basis_points")) == {
        bob.pk: 2_500,
        carol.pk: 7_500,
    }


@pytest.mark.parametrize(
    ("shares", "code", "param"),
    [
        ([], LicensingErrorCode.SHARES_EMPTY, "shares"),
        ([("alice", 10_000), ("alice", 0)], LicensingErrorCode.SHARES_TOTAL_INVALID,
         "shares[1].basis_points"),
        ([("alice", 5_000), ("alice", 5_000)], LicensingErrorCode.SHARES_DUPLICATE_CREATOR,
         "shares[1].creator"),
        ([("alice", 6_000), ("bob", 6_000)], LicensingErrorCode.SHARES_TOTAL_INVALID, "shares"),
    ],
)  # fmt: skip
def test_bad_shares_are_refused_naming_the_field(
    alice, bob, make_work, shares, code, param
) -> None:
    work = make_work(alice)
    people = {"alice": alice, "bob": bob}

    with _raises(code, param):
        rights_shares_set(
            work=work, shares=[ShareSpec(people[name], points) for name, points in shares]
        )

    assert list(work.shares.values_list("creator_id", "basis_points")) == [(alice.pk, 10_000)]


def test_identifiers_are_stored_canonical_and_unique(alice, bob, make_work) -> None:
    work = make_work(alice, identifiers={"isbn": "0-306-40615-2", "isrc": "us-rc1-76-07839"})
    assert (work.isbn, work.isrc) == ("9780306406157", "USRC17607839")

    with _raises(LicensingErrorCode.IDENTIFIER_TAKEN, "identifiers.isbn"):
        make_work(bob, identifiers={"isbn": "978-0-306-40615-7"})
    with _raises(LicensingErrorCode.IDENTIFIER_INVALID, "identifiers.doi"):
        make_work(bob, identifiers={"doi": "not-a-doi"})

    assert Work.objects.filter(creator=bob).count() == 0


def test_works_without_an_identifier_do_not_collide(alice, make_work) -> None:
    make_work(alice)
    make_work(alice, identifiers={"isbn": ""})
    assert Work.objects.filter(isbn__isnull=True).count() == 2


def test_the_database_refuses_a_duplicate_identifier_too(alice, make_work) -> None:
    make_work(alice, identifiers={"sha256": "a" * 64})
    with pytest.raises(IntegrityError), transaction.atomic():
        Work.objects.create(creator=alice, title="Copy", kind="text", sha256="a" * 64)


def test_reserving_a_work_withdraws_its_offers(alice, make_work, make_offer) -> None:
    work = make_work(alice)
    active = make_offer(alice, work=work)
    draft = make_offer(alice, work=work, use="ai-input", status=Offer.Status.DRAFT)

    work_reserve(work=work)

    statuses = set(
        Offer.objects.filter(pk__in=[active.pk, draft.pk]).values_list("status", flat=True)
    )
    assert statuses == {Offer.Status.WITHDRAWN}
    with _raises(LicensingErrorCode.WORK_RESERVED, "work"):
        make_offer(alice, work=work)
    with _raises(LicensingErrorCode.WORK_RESERVED, "status"):
        offer_publish(offer=active)


def test_a_reserved_work_is_never_licensable_through_a_collection(
    alice, make_work, make_offer
) -> None:
    work = make_work(alice)
    collection = collection_create(creator=alice, title="All", works=[work])
    make_offer(alice, collection=collection, terms=flat_terms(pricing="pool"))
    assert len(work_offers_active(work_get(public_id=work.public_id))) == 1

    work_reserve(work=work)

    assert work_offers_active(work_get(public_id=work.public_id)) == []
    with _raises(LicensingErrorCode.WORK_RESERVED, "works[0]"):
        collection_create(creator=alice, title="Again", works=[work])


def test_a_creator_cannot_use_another_creators_rows(alice, bob, make_work) -> None:
    bobs_work = make_work(bob)
    with _raises(LicensingErrorCode.WORK_NOT_FOUND, "work"):
        offer_create(creator=alice, work=bobs_work, use="ai-train", terms=flat_terms())
    with _raises(LicensingErrorCode.WORK_NOT_FOUND, "works[0]"):
        collection_create(creator=alice, title="Mine", works=[bobs_work])
    assert Offer.objects.count() == Collection.objects.count() == 0


# --- Offer terms ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("terms", "param"),
    [
        (flat_terms(amount=-1), "amount"),
        (flat_terms(amount=1_000_000_000_000), "amount"),
        (flat_terms(currency="xyz"), "currency"),
        (flat_terms(amount=None), "amount"),
        (flat_terms(term_days=None), "term_days"),
        (flat_terms(unit="token"), "unit"),
        (per_unit_terms(unit=None), "unit"),
        (per_unit_terms(unit_amount_decimal=None), "unit_amount_decimal"),
        (per_unit_terms(unit_amount_decimal=Decimal("-0.1")), "unit_amount_decimal"),
        (per_unit_terms(unit_amount_decimal=Decimal("1234567890123")), "unit_amount_decimal"),
        (per_unit_terms(unit_amount_decimal=Decimal("0.0000000000001")), "unit_amount_decimal"),
        (per_unit_terms(amount=100), "amount"),
        (flat_terms(pricing="pool"), "pricing"),
    ],
)
def test_bad_terms_are_refused_naming_the_field(alice, make_work, terms, param) -> None:
    work = make_work(alice)

    with pytest.raises(LicensingError) as raised:
        offer_create(creator=alice, work=work, use="ai-train", terms=terms)

    assert raised.value.param == param
    assert raised.value.code in (
        LicensingErrorCode.OFFER_TERMS_INVALID,
        LicensingErrorCode.CURRENCY_UNSUPPORTED,
        LicensingErrorCode.OFFER_TARGET_INVALID,
    )
    assert Offer.objects.count() == OfferVersion.objects.count() == 0


def test_every_pricing_model_is_accepted(alice, make_work, make_offer) -> None:
    work = make_work(alice)
    collection = collection_create(creator=alice, title="Box", works=[work])

    flat = make_offer(alice, work=work)
    per_unit = make_offer(
        alice, work=work, use="ai-input", terms=per_unit_terms(minimum_amount=500, unit="retrieval")
    )
    pool = make_offer(alice, collection=collection, terms=flat_terms(pricing="pool", amount=9_900))

    assert [o.current_version.pricing for o in (flat, per_unit, pool)] == [
        "flat",
        "per_unit",
        "pool",
    ]
    assert per_unit.current_version.unit_amount_decimal == Decimal("0.042")


# --- Versioning -----------------------------------------------------------------------


def _version_row(version: OfferVersion) -> dict:
    return {
        field.attname: getattr(version, field.attname)
        for field in OfferVersion._meta.concrete_fields
    }


def test_terms_of_an_unlicensed_offer_are_corrected_in_place(alice, make_work, make_offer) -> None:
    offer = make_offer(alice, work=make_work(alice))

    offer_update(offer=offer, terms={"amount": 2_000})

    offer.refresh_from_db()
    assert offer.versions.count() == 1
    assert offer.current_version.amount == 2_000


def test_a_licensed_version_is_frozen_and_a_change_makes_the_next_one(
    alice, make_work, make_offer
) -> None:
    offer = make_offer(alice, work=make_work(alice))
    first = offer_version_mark_licensed(offer_version=offer.current_version)
    assert offer_version_is_licensed(offer_version=first)
    before = _version_row(OfferVersion.objects.get(pk=first.pk))

    offer_update(offer=offer, terms={"amount": 1_500, "attribution_required": True})

    offer.refresh_from_db()
    assert _version_row(OfferVersion.objects.get(pk=first.pk)) == before
    assert offer.current_version.version == 2
    assert (offer.current_version.amount, offer.current_version.attribution_required) == (
        1_500,
        True,
    )
    assert offer_version_get(offer=offer, version=1).amount == 1_250
    # Marking again keeps the first purchase's time.
    again = offer_version_mark_licensed(offer_version=first)
    assert again.licensed_at == before["licensed_at"]


def test_an_unchanged_patch_makes_no_version(alice, make_work, make_offer) -> None:
    offer = make_offer(alice, work=make_work(alice))
    offer_version_mark_licensed(offer_version=offer.current_version)

    offer_update(offer=offer, terms={"amount": 1_250, "currency": "EUR"})

    assert offer.versions.count() == 1


def test_status_moves_only_forward_or_back_from_withdrawn(alice, make_work, make_offer) -> None:
    offer = make_offer(alice, work=make_work(alice), status=Offer.Status.DRAFT)
    offer_publish(offer=offer)
    offer_withdraw(offer=offer)
    offer_publish(offer=offer)
    with _raises(LicensingErrorCode.OFFER_STATUS_INVALID, "status"):
        offer_update(offer=offer, status=Offer.Status.DRAFT)


def test_a_licensed_work_or_offer_cannot_be_deleted(alice, make_work, make_offer) -> None:
    work = make_work(alice)
    offer = make_offer(alice, work=work)
    offer_version_mark_licensed(offer_version=offer.current_version)

    with _raises(LicensingErrorCode.WORK_HAS_LICENSES):
        work_delete(work=work)
    with _raises(LicensingErrorCode.OFFER_HAS_LICENSES):
        offer_delete(offer=offer)
    assert Work.objects.filter(pk=work.pk).exists()


def test_an_unlicensed_work_is_deleted_with_its_offers(alice, make_work, make_offer) -> None:
    work = make_work(alice)
    make_offer(alice, work=work)

    work_delete(work=work)

    assert not Work.objects.exists()
    assert not Offer.objects.exists()
    assert not OfferVersion.objects.exists()


# --- Audit history --------------------------------------------------------------------


def test_changes_are_kept_in_the_history(alice, make_work, make_offer) -> None:
    work = make_work(alice, title="Draft title")
    work_update(work=work, title="Final title")
    offer = make_offer(alice, work=work)
    offer_update(offer=offer, terms={"amount": 999})

    titles = list(work.history.order_by("history_id").values_list("title", "history_type"))
    assert titles == [("Draft title", "+"), ("Final title", "~")]
    amounts = OfferVersion.history.filter(offer_id=offer.pk).order_by("history_id")
    assert [row.amount for row in amounts] == [1_250, 999]
    assert RightsShare.history.filter(work_id=work.pk).count() == 1


# --- The database's own check ---------------------------------------------------------


@pytest.mark.postgres
def test_postgresql_refuses_shares_that_do_not_total_ten_thousand(alice, make_work) -> None:
    work = make_work(alice)

    def bypass_the_services() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE licensing_rightsshare SET basis_points = 9000 WHERE work_id = %s",
                [work.pk],
            )
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    with pytest.raises(IntegrityError):
        bypass_the_services()
    assert RightsShare.objects.get(work=work).basis_points == 10_000
