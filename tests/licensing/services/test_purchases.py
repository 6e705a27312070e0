"""Buying licenses: each pricing model on both billings, exact postings, clean failures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from ledger.models import Entry, Transaction
from ledger.selectors import account_balance
from ledger.services import owner_accounts_open, platform_account
from licensing.errors import LicensingError
from licensing.models import InvoiceLine, License, Purchase
from licensing.selectors.licenses import license_works
from licensing.services.purchases import license_purchase
from payouts.stripe import gateway
from tests.licensing.licensee_fixtures import Catalogue

pytestmark = pytest.mark.django_db


def entries_of(granted: License) -> dict[str, int]:
    """The sale's legs by account code, in micros (debit > 0 > credit)."""
    transaction = Transaction.objects.get(pk=granted.ledger_transaction_id)
    return {
        entry.account.code: entry.amount_micros
        for entry in Entry.objects.filter(transaction=transaction).select_related("account")
    }


def payable_code(creator) -> str:
    return f"creator:{creator.public_id}:payable:eur"


def test_flat_on_invoice_posts_receivable_commission_and_co_owner_shares(
    catalogue: Catalogue, invoice_org
) -> None:
    granted = license_purchase(
        organization=invoice_org, offer_id=catalogue.flat_offer.public_id, work_ids=None
    )

    assert granted.status == License.Status.ACTIVE
    assert granted.amount == 1_000
    assert granted.ends_at - granted.starts_at == timedelta(days=365)
    assert list(granted.works.values_list("public_id", flat=True)) == [
        catalogue.shared_work.public_id
    ]
    assert entries_of(granted) == {
        f"organization:{invoice_org.public_id}:receivable:eur": 10_000_000,
        "platform:commission:eur": -1_000_000,
        payable_code(catalogue.alice): -6_000_300,
        payable_code(catalogue.bob): -2_999_700,
    }
    line = InvoiceLine.objects.get(license=granted)
    assert (line.amount, line.currency, line.period) == (
        1_000,
        "eur",
        timezone.now().strftime("%Y-%m"),
    )
    # Nothing to pay at once, but the request is recorded with its license, for retries.
    purchase = Purchase.objects.get()
    assert (purchase.status, purchase.payment_intent_id, purchase.license) == (
        Purchase.Status.SUCCEEDED,
        "",
        granted,
    )
    catalogue.flat_offer.current_version.refresh_from_db()
    assert catalogue.flat_offer.current_version.licensed_at is not None


def test_flat_by_card_charges_once_and_posts_to_the_stripe_balance(
    catalogue: Catalogue, card_org
) -> None:
    granted = license_purchase(
        organization=card_org, offer_id=catalogue.flat_offer.public_id, work_ids=None
    )

    purchase = Purchase.objects.get()
    assert purchase.status == Purchase.Status.SUCCEEDED
    assert purchase.license == granted
    intent = gateway.payment_intent_retrieve(payment_intent_id=purchase.payment_intent_id)
    assert (intent.status, intent.amount, intent.currency) == ("succeeded", 1_000, "eur")
    assert intent.metadata["accord_purchase"] == purchase.public_id
    assert entries_of(granted) == {
        "platform:stripe_balance:eur": 10_000_000,
        "platform:commission:eur": -1_000_000,
        payable_code(catalogue.alice): -6_000_300,
        payable_code(catalogue.bob): -2_999_700,
    }
    assert not InvoiceLine.objects.exists()


def test_flat_per_work_of_a_collection_prices_each_work(catalogue: Catalogue, invoice_org) -> None:
    granted = license_purchase(
        organization=invoice_org,
        offer_id=catalogue.collection_flat_offer.public_id,
        work_ids=[catalogue.solo_work.public_id, catalogue.shared_work.public_id],
    )

    assert granted.amount == 1_000
    # Each 5.00 work: 0.50 commission, 4.50 to its owners (shared: 6,667 / 3,333 bp).
    assert entries_of(granted) == {
        f"organization:{invoice_org.public_id}:receivable:eur": 10_000_000,
        "platform:commission:eur": -1_000_000,
        payable_code(catalogue.alice): -4_500_000 - 3_000_150,
        payable_code(catalogue.bob): -1_499_850,
    }


@pytest.mark.parametrize("billing_fixture", ["invoice_org", "card_org"])
def test_pool_credits_the_license_pool_after_commission(
    catalogue: Catalogue, billing_fixture: str, request: pytest.FixtureRequest
) -> None:
    organization = request.getfixturevalue(billing_fixture)

    granted = license_purchase(
        organization=organization, offer_id=catalogue.pool_offer.public_id, work_ids=None
    )

    debit_code = (
        "platform:stripe_balance:eur"
        if billing_fixture == "card_org"
        else f"organization:{organization.public_id}:receivable:eur"
    )
    assert granted.amount == 3_000
    assert sorted(granted.works.values_list("public_id", flat=True)) == sorted(
        [catalogue.solo_work.public_id, catalogue.shared_work.public_id]
    )
    assert entries_of(granted) == {
        debit_code: 30_000_000,
        "platform:commission:eur": -3_000_000,
        f"license:{granted.public_id}:pool:eur": -27_000_000,
    }


@pytest.mark.parametrize("billing_fixture", ["invoice_org", "card_org"])
def test_per_unit_is_active_at_once_and_moves_no_money(
    catalogue: Catalogue, billing_fixture: str, request: pytest.FixtureRequest
) -> None:
    organization = request.getfixturevalue(billing_fixture)

    granted = license_purchase(
        organization=organization, offer_id=catalogue.per_unit_offer.public_id, work_ids=None
    )

    assert granted.status == License.Status.ACTIVE
    assert granted.amount == 0
    assert granted.ends_at is None
    assert granted.ledger_transaction_id is None
    assert not Transaction.objects.exists()
    assert Purchase.objects.get().amount == 0
    assert not InvoiceLine.objects.exists()


@pytest.mark.parametrize("offer_name", ["flat_offer", "per_unit_offer"])
def test_an_invoiced_request_retried_with_its_key_grants_and_bills_once(
    catalogue: Catalogue, invoice_org, offer_name: str
) -> None:
    """A crash after the commit but before the answer: the retry finds the license."""
    offer_id = getattr(catalogue, offer_name).public_id
    first = license_purchase(
        organization=invoice_org, offer_id=offer_id, work_ids=None, request_key="retry-me"
    )
    again = license_purchase(
        organization=invoice_org, offer_id=offer_id, work_ids=None, request_key="retry-me"
    )

    assert again.pk == first.pk
    assert License.objects.count() == 1
    assert InvoiceLine.objects.count() == (1 if offer_name == "flat_offer" else 0)
    assert Transaction.objects.count() == (1 if offer_name == "flat_offer" else 0)
    with pytest.raises(LicensingError) as caught:
        license_purchase(
            organization=invoice_org,
            offer_id=catalogue.pool_offer.public_id,
            work_ids=None,
            request_key="retry-me",
        )
    assert caught.value.code == "purchase_key_reused"


def test_a_sub_cent_split_loses_nothing(catalogue: Catalogue, invoice_org) -> None:
    # One cent is below what a card can pay, so no offer is priced at it any more; the
    # split is the sale posting's: 10,000 micros, 1,000 commission, 9,000 split 6,667 / 3,333.
    from licensing.accounts import organization_receivable
    from licensing.sales import SaleLine, sale_post

    owners = {catalogue.alice.public_id: 6_667, catalogue.bob.public_id: 3_333}
    posted = sale_post(
        license_public_id="lic_one_cent",
        debit=organization_receivable(invoice_org.public_id, "eur"),
        lines=[SaleLine(10_000, owners)],
        currency="eur",
        commission_basis_points=1_000,
    )

    legs = {entry.account.code: entry.amount_micros for entry in posted.entries.all()}
    assert legs[payable_code(catalogue.alice)] == -6_000
    assert legs[payable_code(catalogue.bob)] == -3_000  # 2,999.7 rounds up: largest remainder
    assert sum(legs.values()) == 0


def test_declined_card_is_402_and_writes_only_the_failed_attempt(
    catalogue: Catalogue, declining_org
) -> None:
    with pytest.raises(LicensingError) as raised:
        license_purchase(
            organization=declining_org, offer_id=catalogue.flat_offer.public_id, work_ids=None
        )

    assert raised.value.code == "payment_failed"
    assert raised.value.http_status == 402
    assert not License.objects.exists()
    assert not Transaction.objects.exists()
    failed = Purchase.objects.get()
    assert failed.status == Purchase.Status.FAILED
    assert failed.failure_code


def test_a_crash_after_stripe_answered_is_completed_by_the_retry_without_charging_twice(
    catalogue: Catalogue, card_org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process dies between Stripe's answer and our commit; the client retries."""
    import licensing.services.purchases as purchases

    real_complete = purchases.purchase_complete

    def die(**kwargs: object) -> None:
        raise SystemExit("killed after Stripe answered")

    monkeypatch.setattr(purchases, "purchase_complete", die)
    with pytest.raises(SystemExit):
        license_purchase(
            organization=card_org,
            offer_id=catalogue.flat_offer.public_id,
            work_ids=None,
            request_key="client-key-1",
        )
    assert Purchase.objects.get().status == Purchase.Status.PENDING
    assert not License.objects.exists()

    monkeypatch.setattr(purchases, "purchase_complete", real_complete)
    granted = license_purchase(
        organization=card_org,
        offer_id=catalogue.flat_offer.public_id,
        work_ids=None,
        request_key="client-key-1",
    )

    assert License.objects.get() == granted
    balance = gateway.balance_retrieve()
    assert balance.available["eur"] == 1_000  # one charge, not two
    stripe_balance = platform_account(name="stripe_balance", kind="asset", currency="eur")
    assert account_balance(stripe_balance) == 10_000_000


def test_retry_of_a_completed_purchase_returns_the_same_license(
    catalogue: Catalogue, card_org
) -> None:
    first = license_purchase(
        organization=card_org,
        offer_id=catalogue.flat_offer.public_id,
        work_ids=None,
        request_key="k",
    )
    again = license_purchase(
        organization=card_org,
        offer_id=catalogue.flat_offer.public_id,
        work_ids=None,
        request_key="k",
    )
    assert again == first
    assert License.objects.count() == 1
    assert gateway.balance_retrieve().available["eur"] == 1_000


def test_a_license_read_back_lists_its_works_newest_first_and_reads_them_once(
    catalogue: Catalogue, invoice_org, django_assert_num_queries
) -> None:
    granted = license_purchase(
        organization=invoice_org,
        offer_id=catalogue.collection_flat_offer.public_id,
        work_ids=[catalogue.solo_work.public_id, catalogue.shared_work.public_id],
    )
    read_back = License.objects.get(pk=granted.pk)  # as a replayed purchase finds it

    with django_assert_num_queries(1):
        listed = license_works(read_back)
        assert license_works(read_back) is listed

    assert listed == [catalogue.shared_work, catalogue.solo_work]
    assert license_works(granted) == listed


@pytest.mark.parametrize(
    ("offer_name", "work_names", "code"),
    [
        ("usd_offer", None, "currency_mismatch"),
        ("collection_flat_offer", None, "works_required"),
        ("collection_flat_offer", ["reserved_work"], "work_not_in_offer"),
        ("flat_offer", ["solo_work"], "works_not_allowed"),
        ("flat_offer", ["shared_work"], "works_not_allowed"),
        ("pool_offer", ["solo_work"], "works_not_allowed"),
    ],
)
def test_bad_purchases_are_refused_with_a_code_and_write_nothing(
    catalogue: Catalogue, invoice_org, offer_name: str, work_names: list[str] | None, code: str
) -> None:
    offer = getattr(catalogue, offer_name)
    work_ids = [getattr(catalogue, name).public_id for name in work_names] if work_names else None

    with pytest.raises(LicensingError) as raised:
        license_purchase(organization=invoice_org, offer_id=offer.public_id, work_ids=work_ids)

    assert raised.value.code == code
    assert not License.objects.exists()
    assert not Transaction.objects.exists()
    assert not InvoiceLine.objects.exists()


def test_unknown_withdrawn_and_draft_offers_are_refused(catalogue: Catalogue, invoice_org) -> None:
    from licensing.services.offers import offer_withdraw

    offer_withdraw(offer=catalogue.flat_offer)
    cases = {
        "off_doesnotexist": "offer_not_found",
        catalogue.flat_offer.public_id: "offer_withdrawn",
    }
    for offer_id, code in cases.items():
        with pytest.raises(LicensingError) as raised:
            license_purchase(organization=invoice_org, offer_id=offer_id, work_ids=None)
        assert raised.value.code == code
    assert not License.objects.exists()


def test_a_work_reserved_after_joining_a_collection_is_not_licensed_by_its_pool(
    catalogue: Catalogue, invoice_org
) -> None:
    from licensing.services.works import work_reserve

    work_reserve(work=catalogue.shared_work)

    granted = license_purchase(
        organization=invoice_org, offer_id=catalogue.pool_offer.public_id, work_ids=None
    )

    assert list(granted.works.values_list("public_id", flat=True)) == [
        catalogue.solo_work.public_id
    ]


def test_the_license_keeps_its_version_when_the_price_changes(
    catalogue: Catalogue, invoice_org
) -> None:
    from licensing.services.offers import offer_update

    granted = license_purchase(
        organization=invoice_org, offer_id=catalogue.flat_offer.public_id, work_ids=None
    )
    offer_update(offer=catalogue.flat_offer, terms={"amount": 2_000})
    catalogue.flat_offer.refresh_from_db()

    granted.refresh_from_db()
    assert granted.offer_version.version == 1
    assert granted.offer_version.amount == 1_000
    assert catalogue.flat_offer.current_version.version == 2
    assert catalogue.flat_offer.current_version.amount == 2_000


def test_owner_accounts_are_in_the_sale_currency(catalogue: Catalogue, invoice_org) -> None:
    license_purchase(
        organization=invoice_org, offer_id=catalogue.flat_offer.public_id, work_ids=None
    )
    payable = owner_accounts_open(
        owner_type="creator",
        owner_id=catalogue.bob.public_id,
        currency="eur",
        accounts={"payable": "liability"},
    )["payable"]
    assert account_balance(payable) == -2_999_700


def test_a_purchase_costs_the_same_queries_whatever_the_number_of_works(
    catalogue: Catalogue, invoice_org
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_to_buy(works: list) -> int:
        with CaptureQueriesContext(connection) as captured:
            license_purchase(
                organization=invoice_org,
                offer_id=catalogue.collection_flat_offer.public_id,
                work_ids=[work.public_id for work in works],
                allow_duplicate=True,
            )
        return len(captured)

    queries_to_buy([catalogue.solo_work, catalogue.shared_work])  # opens every account once
    # Both purchases pay the same two co-owners (the shared work has both).
    one_work = queries_to_buy([catalogue.shared_work])
    two_works = queries_to_buy([catalogue.shared_work, catalogue.solo_work])

    assert two_works <= one_work + 1, (one_work, two_works)
