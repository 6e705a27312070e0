"""The creator portal (the scoped Django admin): lists, reservation, co-owners, history,
offers and their versions, and the CSV import with its preview."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from licensing.models import Offer, OfferVersion, RightsShare, Work
from licensing.selectors.creators import creator_ledger_accounts
from licensing.services.collections import collection_create
from licensing.services.creators import creator_accounts_open
from licensing.services.offers import offer_version_mark_licensed
from licensing.services.works import work_update
from tests.licensing.conftest import flat_terms, per_unit_terms

pytestmark = pytest.mark.django_db


@pytest.fixture
def portal(alice) -> Client:
    client = Client()
    client.force_login(alice.user)
    return client


def _work_form(**overrides: Any) -> dict[str, Any]:
    data = {
        "title": "Orchard",
        "kind": "text",
        "sha256": "",
        "isrc": "",
        "isbn": "",
        "doi": "",
        "url": "",
        "shares-TOTAL_FORMS": "0",
        "shares-INITIAL_FORMS": "0",
        "shares-MIN_NUM_FORMS": "0",
        "shares-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def _shares(*rows: tuple[str, int], initial: int = 0) -> dict[str, str]:
    data = {"shares-TOTAL_FORMS": str(len(rows)), "shares-INITIAL_FORMS": str(initial)}
    for index, (creator_id, points) in enumerate(rows):
        data[f"shares-{index}-creator"] = creator_id
        data[f"shares-{index}-basis_points"] = str(points)
    return data


def test_the_work_list_shows_offers_and_state(
    alice, make_work, make_offer, portal, django_assert_max_num_queries
) -> None:
    licensable = make_work(alice, title="Licensable one")
    make_offer(alice, work=licensable)
    make_offer(alice, work=licensable, use="ai-input", terms=per_unit_terms(unit="retrieval"))
    make_work(alice, title="Reserved one", reserved=True)
    pooled = make_work(alice, title="Pooled one")
    box = collection_create(creator=alice, title="Box", works=[pooled])
    make_offer(alice, collection=box, terms=flat_terms(pricing="pool", amount=90_000))
    for _ in range(20):
        make_offer(alice, work=make_work(alice))

    # 17: the finance-group check behind each admin action and the payouts app's screens
    # is one query more per page (not per row: the rows are prefetched below), and the
    # invoices' menu entry asks it once more.
    with django_assert_max_num_queries(17):
        response = portal.get(reverse("admin:licensing_work_changelist"))

    page = response.content.decode()
    assert "Licensable one" in page
    assert "Reserved" in page
    assert "ai-train · flat €12.50 · v1 · active" in page
    assert "ai-input · per_unit €0.00042 per retrieval · v1 · active" in page
    assert "via Box: ai-train · pool €900.00 · usage in items · v1 · active" in page
    assert "Not offered" not in page


def test_the_reserve_action_reserves_and_withdraws(alice, make_work, make_offer, portal) -> None:
    work = make_work(alice)
    offer = make_offer(alice, work=work)

    portal.post(
        reverse("admin:licensing_work_changelist"),
        {"action": "reserve_works", "_selected_action": [work.pk]},
    )

    work.refresh_from_db()
    offer.refresh_from_db()
    assert work.reserved is True
    assert offer.status == Offer.Status.WITHDRAWN


def test_co_owner_shares_must_total_ten_thousand(alice, bob, portal) -> None:
    response = portal.post(
        reverse("admin:licensing_work_add"),
        _work_form(**_shares((alice.public_id, 6_000), (bob.public_id, 3_000))),
    )

    assert response.status_code == 200
    assert "must total 10000" in str(
        response.context["inline_admin_formsets"][0].formset.non_form_errors()
    )
    assert Work.objects.count() == RightsShare.objects.count() == 0


def test_co_owners_are_added_with_their_shares(alice, bob, portal) -> None:
    response = portal.post(
        reverse("admin:licensing_work_add"),
        _work_form(
            isbn="0-306-40615-2", **_shares((alice.public_id, 6_000), (bob.public_id, 4_000))
        ),
    )

    assert response.status_code == 302, response.context and response.context.get("errors")
    work = Work.objects.get()
    assert (work.creator, work.isbn) == (alice, "9780306406157")
    assert dict(work.shares.values_list("creator_id", "basis_points")) == {
        alice.pk: 6_000,
        bob.pk: 4_000,
    }


def test_a_new_work_without_shares_belongs_to_its_creator(alice, portal) -> None:
    response = portal.post(reverse("admin:licensing_work_add"), _work_form())

    assert response.status_code == 302
    assert list(RightsShare.objects.values_list("creator_id", "basis_points")) == [
        (alice.pk, 10_000)
    ]


def test_a_duplicate_or_malformed_identifier_is_a_field_error(
    alice, bob, make_work, portal
) -> None:
    make_work(bob, identifiers={"isrc": "USRC17607839"})

    duplicate = portal.post(reverse("admin:licensing_work_add"), _work_form(isrc="us-rc1-76-07839"))
    malformed = portal.post(reverse("admin:licensing_work_add"), _work_form(doi="11.1/x"))

    assert "isrc" in duplicate.context["adminform"].form.errors
    assert "doi" in malformed.context["adminform"].form.errors
    assert not Work.objects.filter(creator=alice).exists()


def test_a_work_has_a_readable_history(alice, make_work, portal) -> None:
    work = make_work(alice, title="First title")
    work_update(work=work, title="Second title")
    record = work.history.order_by("history_id").first()

    history = portal.get(reverse("admin:licensing_work_history", args=[work.pk]))
    entry = portal.get(
        reverse("admin:licensing_work_simple_history", args=[work.pk, record.history_id])
    )
    revert = portal.post(
        reverse("admin:licensing_work_simple_history", args=[work.pk, record.history_id]), {}
    )

    assert history.status_code == 200
    assert "Second title" in history.content.decode()
    assert entry.status_code == 200
    assert revert.status_code == 405
    work.refresh_from_db()
    assert work.title == "Second title"


# --- Offers ---------------------------------------------------------------------------


def _offer_form(**overrides: Any) -> dict[str, Any]:
    data = {
        "use": "ai-train",
        "status": "active",
        "pricing": "flat",
        "currency": "eur",
        "amount": "10.00",
        "unit_amount_decimal": "",
        "unit": "",
        "minimum_amount": "",
        "term_days": "365",
        "commercial": "on",
        "versions-TOTAL_FORMS": "0",
        "versions-INITIAL_FORMS": "0",
        "versions-MIN_NUM_FORMS": "0",
        "versions-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


def test_an_offer_is_versioned_in_the_portal(alice, make_work, portal) -> None:
    work = make_work(alice)
    created = portal.post(reverse("admin:licensing_offer_add"), _offer_form(work=work.pk))
    assert created.status_code == 302
    offer = Offer.objects.get()
    offer_version_mark_licensed(offer_version=offer.current_version)

    changed = portal.post(
        reverse("admin:licensing_offer_change", args=[offer.pk]),
        _offer_form(amount="15.00", **{"versions-TOTAL_FORMS": "1", "versions-INITIAL_FORMS": "1",
                                      "versions-0-id": str(offer.current_version.pk),
                                      "versions-0-offer": str(offer.pk)}),
    )  # fmt: skip

    assert changed.status_code == 302
    assert list(OfferVersion.objects.order_by("version").values_list("version", "amount")) == [
        (1, 1000),
        (2, 1500),
    ]
    page = portal.get(reverse("admin:licensing_offer_change", args=[offer.pk])).content.decode()
    assert 'value="15.00"' in page  # the price is edited as it is written
    assert "€15.00" in page  # version 2
    assert "€10.00" in page  # version 1, as it was sold


def test_a_new_offer_is_priced_in_the_creators_payout_currency(make_creator) -> None:
    pounds = make_creator("penny", payout_currency="gbp")
    client = Client()
    client.force_login(pounds.user)

    form = client.get(reverse("admin:licensing_offer_add")).context["adminform"].form

    assert form["currency"].value() == "gbp"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": "-5"}, "amount"),
        ({"amount": "10000000000"}, "amount"),
        ({"amount": "12.505"}, "amount"),  # a euro has two decimals: refused, not rounded
        ({"currency": "jpy", "amount": "12.5"}, "amount"),
        ({"currency": "xyz"}, "currency"),
        ({"pricing": "per_unit", "amount": "", "unit_amount_decimal": "0.5"}, "unit"),
        ({"pricing": "per_unit", "amount": "", "unit": "token"}, "unit_amount_decimal"),
        ({"pricing": "pool"}, "pricing"),
        ({"status": "withdrawn"}, "status"),
    ],
)
def test_bad_offer_terms_are_field_errors(alice, make_work, portal, overrides, field) -> None:
    work = make_work(alice)

    response = portal.post(
        reverse("admin:licensing_offer_add"), _offer_form(work=work.pk, **overrides)
    )

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Offer.objects.exists()


# --- CSV import -----------------------------------------------------------------------


def _import(portal: Client, csv_text: str):
    return portal.post(
        reverse("admin:licensing_work_import"),
        {
            "format": "0",
            "import_file": SimpleUploadedFile("works.csv", csv_text.encode(), "text/csv"),
        },
    )


def test_a_csv_with_broken_rows_shows_row_errors_and_saves_nothing(
    alice, bob, make_work, portal
) -> None:
    make_work(bob, identifiers={"doi": "10.1000/taken"})
    csv_text = (
        "title,kind,isbn,doi,reserved\n"
        "Good one,text,978-0-306-40615-7,,\n"
        "Bad ISBN,text,978-0-306-40615-8,,\n"
        "Bad kind,poem,,,\n"
        "Taken DOI,dataset,,10.1000/TAKEN,\n"
        "Same ISBN twice,text,0-306-40615-2,,\n"
    )

    response = _import(portal, csv_text)

    assert response.status_code == 200
    result = response.context["result"]
    invalid = {row.number: row.error_dict for row in result.invalid_rows}
    assert set(invalid) == {2, 3, 4, 5}
    assert "isbn" in invalid[2]
    assert "kind" in invalid[3]
    assert "doi" in invalid[4]
    assert "isbn" in invalid[5]
    assert "confirm_form" not in response.context or response.context["confirm_form"] is None
    assert not Work.objects.filter(creator=alice).exists()


def test_a_good_csv_is_previewed_then_imported_for_the_creator(alice, portal) -> None:
    csv_text = (
        "title,kind,isbn,url,reserved\n"
        "One,text,0-306-40615-2,,\n"
        "Two,image,,https://alice.example/two,1\n"
    )

    preview = _import(portal, csv_text)
    confirm = preview.context["confirm_form"]
    assert not Work.objects.exists()
    done = portal.post(reverse("admin:licensing_work_process_import"), confirm.initial)

    assert done.status_code == 302
    works = {work.title: work for work in Work.objects.all()}
    assert set(works) == {"One", "Two"}
    assert all(work.creator == alice for work in works.values())
    assert works["One"].isbn == "9780306406157"
    assert works["Two"].reserved is True
    assert RightsShare.objects.filter(creator=alice, basis_points=10_000).count() == 2


# --- The creator and their ledger accounts ----------------------------------------------


def test_opening_a_creator_shows_their_ledger_accounts_with_balances(alice, portal) -> None:
    from ledger.posting import Leg
    from ledger.services import platform_account, transaction_post

    payable = creator_accounts_open(creator=alice)["payable"]
    cash = platform_account(name="cash", kind="asset", currency="eur")
    transaction_post(
        idempotency_key="test-sale-1",
        kind="sale",
        legs=[Leg(cash, 12_345_678), Leg(payable, -12_345_678)],
    )

    page = portal.get(reverse("admin:licensing_creator_change", args=[alice.pk])).content.decode()

    assert payable.code in page
    assert "12.345678" in page  # owed to the creator, to the micro


def test_a_creator_edits_their_profile_through_the_portal(alice, portal) -> None:
    response = portal.post(
        reverse("admin:licensing_creator_change", args=[alice.pk]),
        {"display_name": "Alice A.", "country": "fr", "payout_currency": "usd"},
    )

    assert response.status_code == 302
    alice.refresh_from_db()
    assert (alice.display_name, alice.country, alice.payout_currency) == ("Alice A.", "FR", "usd")
    currencies = {row.currency for row in creator_ledger_accounts(creator=alice)}
    assert currencies == {"eur", "usd"}


def test_staff_import_works_on_behalf_of_creators(alice, admin_client) -> None:
    csv_text = f"title,kind,creator\nFor Alice,text,{alice.public_id}\nNobody's,text,cre_x\n"
    preview = admin_client.post(
        reverse("admin:licensing_work_import"),
        {
            "format": "0",
            "import_file": SimpleUploadedFile("works.csv", csv_text.encode(), "text/csv"),
        },
    )

    invalid = {row.number: row.error_dict for row in preview.context["result"].invalid_rows}
    assert list(invalid) == [2]
    assert "creator" in invalid[2]
    assert not Work.objects.exists()


# --- Bulk delete ----------------------------------------------------------------------


def _rows_of(name: str, creator, make_work, make_offer) -> list:
    """Two rows of the kind named, each with the related rows Django would stop at."""
    if name == "work":
        works = [make_work(creator), make_work(creator)]
        make_offer(creator, work=works[0])  # PROTECTs its work until the service deletes it
        return works
    if name == "collection":
        collections = [
            collection_create(creator=creator, title=title, works=[make_work(creator)])
            for title in ("Box one", "Box two")
        ]
        make_offer(creator, collection=collections[0], terms=flat_terms(pricing="pool"))
        return collections
    return [make_offer(creator, work=make_work(creator)) for _ in range(2)]


def _delete_selected(portal: Client, name: str, rows: list, confirmed: bool = True):
    data = {"action": "delete_selected", "_selected_action": [row.pk for row in rows]}
    if confirmed:
        data["post"] = "yes"
    return portal.post(reverse(f"admin:licensing_{name}_changelist"), data)


@pytest.mark.parametrize("name", ["work", "collection", "offer"])
def test_a_creator_bulk_deletes_their_own_rows_and_never_another_creators(
    alice, bob, make_work, make_offer, portal, name
) -> None:
    mine = _rows_of(name, alice, make_work, make_offer)
    theirs = _rows_of(name, bob, make_work, make_offer)
    model = type(mine[0])

    confirmation = _delete_selected(portal, name, mine + theirs, confirmed=False)
    response = _delete_selected(portal, name, mine + theirs)

    assert confirmation.status_code == 200
    assert confirmation.context["perms_lacking"] == set()
    assert not confirmation.context["protected"]
    assert {str(row) for row in confirmation.context["queryset"]} == {str(row) for row in mine}
    assert response.status_code == 302
    assert not model.objects.filter(pk__in=[row.pk for row in mine]).exists()
    assert set(model.objects.values_list("pk", flat=True)) == {row.pk for row in theirs}


def test_a_bulk_delete_leaves_a_licensed_work_with_the_services_message(
    alice, make_work, make_offer, portal
) -> None:
    licensed, unlicensed = make_work(alice, title="Licensed"), make_work(alice)
    offer = make_offer(alice, work=licensed)
    offer_version_mark_licensed(offer_version=offer.current_version)

    response = _delete_selected(portal, "work", [licensed, unlicensed])

    assert response.status_code == 302
    assert list(Work.objects.values_list("pk", flat=True)) == [licensed.pk]
    assert Offer.objects.filter(pk=offer.pk).exists()
    said = [str(message) for message in get_messages(response.wsgi_request)]
    assert "Licensed: This work has been licensed; reserve it instead of deleting it." in said
    # Only the row that went is reported deleted, and only it is in the admin's log.
    assert "Deleted 1 work." in said
    assert not any(message.startswith("Successfully deleted") for message in said)
    logged = LogEntry.objects.filter(action_flag=DELETION)
    assert list(logged.values_list("object_id", flat=True)) == [str(unlicensed.pk)]
