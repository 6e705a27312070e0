"""The ledger in the admin: everything can be read, nothing can be changed, by anyone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ledger.models import Account, Entry, SealBlock, Transaction
from ledger.sealing import blocks_seal
from ledger.services import owner_accounts_open, transaction_post
from tests.ledger.conftest import Books

pytestmark = pytest.mark.django_db

LEDGER_MODELS = [Account, Transaction, SealBlock]


SALE_EFFECTIVE_AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def sale(eur: Books) -> Transaction:
    return transaction_post(
        idempotency_key="sale-1",
        kind="license_sale",
        legs=eur.sale(10_000_000, 2_000_000),
        reference="license:lic_1",
        effective_at=SALE_EFFECTIVE_AT,
    )


def _url(model: type, view: str, *args: object) -> str:
    return reverse(f"admin:ledger_{model._meta.model_name}_{view}", args=args)


class TestReading:
    def test_accounts_are_listed_with_exact_balances(
        self, admin_client: Client, sale: Transaction
    ) -> None:
        response = admin_client.get(_url(Account, "changelist"))
        assert response.status_code == 200
        page = response.content.decode()
        for code, balance in [
            ("platform:stripe_balance:eur", "10.00 EUR"),
            ("platform:commission:eur", "-2.00 EUR"),
            ("creator:ada-eur:payable:eur", "-8.00 EUR"),
        ]:
            assert code in page
            assert balance in page

    def test_the_account_list_costs_the_same_for_more_accounts(
        self, admin_client: Client, sale: Transaction
    ) -> None:
        def queries() -> int:
            with CaptureQueriesContext(connection) as captured:
                assert admin_client.get(_url(Account, "changelist")).status_code == 200
            return len(captured)

        before = queries()
        for index in range(10):
            owner_accounts_open(
                owner_type="creator",
                owner_id=f"extra-{index}",
                currency="eur",
                accounts={"payable": "liability"},
            )
        assert queries() == before

    def test_an_account_shows_its_balance_and_latest_entries(
        self, admin_client: Client, eur: Books, sale: Transaction
    ) -> None:
        response = admin_client.get(_url(Account, "change", eur.commission.pk))
        assert response.status_code == 200
        page = response.content.decode()
        assert "-2.00 EUR" in page
        assert f"#{sale.pk}" in page
        assert "license_sale" in page
        assert "effective 2026-03-01 09:30:00+00:00" in page
        assert f"recorded {sale.created_at.isoformat(sep=' ', timespec='seconds')}" in page

    def test_transactions_show_and_filter_by_business_time(
        self, admin_client: Client, eur: Books, sale: Transaction
    ) -> None:
        later = transaction_post(
            idempotency_key="sale-2", kind="license_sale", legs=eur.sale(1_000_000, 100_000)
        )
        listing = admin_client.get(_url(Transaction, "changelist")).content.decode()
        assert "March 1, 2026, 9:30 a.m." in listing
        march = admin_client.get(
            _url(Transaction, "changelist"),
            {
                "effective_at__gte": "2026-03-01 00:00:00+00:00",
                "effective_at__lt": "2026-04-01 00:00:00+00:00",
            },
        )
        assert march.status_code == 200
        assert [row.pk for row in march.context["cl"].result_list] == [sale.pk]
        page = admin_client.get(_url(Transaction, "change", later.pk)).content.decode()
        assert "Effective at" in page

    def test_a_transaction_shows_its_entries_and_seal_state(
        self, admin_client: Client, sale: Transaction
    ) -> None:
        page = admin_client.get(_url(Transaction, "change", sale.pk)).content.decode()
        assert "not sealed yet" in page
        for amount in ("10.00 EUR", "-8.00 EUR", "-2.00 EUR"):
            assert amount in page

        blocks_seal()
        page = admin_client.get(_url(Transaction, "change", sale.pk)).content.decode()
        block = SealBlock.objects.get()
        assert f"block 1, hash {block.block_hash}" in page
        listing = admin_client.get(_url(Transaction, "changelist")).content.decode()
        assert "icon-yes" in listing  # the sealed column

    def test_the_seal_chain_is_listed(self, admin_client: Client, sale: Transaction) -> None:
        blocks_seal()
        page = admin_client.get(_url(SealBlock, "changelist")).content.decode()
        assert SealBlock.objects.get().block_hash[:16] in page

    def test_staff_need_the_view_permission(self, client: Client, sale: Transaction) -> None:
        staff = User.objects.create_user("clerk", password="x", is_staff=True)
        client.force_login(staff)
        assert client.get(_url(Transaction, "changelist")).status_code == 403
        staff.user_permissions.add(Permission.objects.get(codename="view_transaction"))
        assert client.get(_url(Transaction, "changelist")).status_code == 200
        assert client.post(_url(Transaction, "delete", sale.pk), {"post": "yes"}).status_code == 403


class TestNoWrites:
    @pytest.mark.parametrize("model", LEDGER_MODELS)
    def test_no_add_change_delete_or_actions_even_for_superusers(
        self, admin_user: User, rf: object, model: type
    ) -> None:
        model_admin = admin.site._registry[model]
        request = rf.get("/")  # type: ignore[attr-defined]
        request.user = admin_user
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)
        assert model_admin.has_view_permission(request)
        assert model_admin.get_actions(request) == {}

    def test_entries_inline_cannot_be_added_or_deleted(self, admin_user: User, rf: object) -> None:
        inline = admin.site._registry[Transaction].inlines[0]
        instance = inline(Transaction, admin.site)
        request = rf.get("/")  # type: ignore[attr-defined]
        request.user = admin_user
        assert inline.model is Entry
        assert not instance.has_add_permission(request, None)
        assert not instance.has_change_permission(request, None)
        assert not instance.has_delete_permission(request, None)

    def test_writes_through_the_admin_are_forbidden(
        self, admin_client: Client, eur: Books, sale: Transaction
    ) -> None:
        assert admin_client.get(_url(Transaction, "add")).status_code == 403
        assert admin_client.post(_url(Account, "add"), {"code": "x"}).status_code == 403
        response = admin_client.post(
            _url(Transaction, "change", sale.pk), {"memo": "edited", "kind": "x"}
        )
        assert response.status_code == 403
        assert (
            admin_client.post(_url(Transaction, "delete", sale.pk), {"post": "yes"}).status_code
            == 403
        )
        assert (
            admin_client.post(_url(Account, "delete", eur.cash.pk), {"post": "yes"}).status_code
            == 403
        )
        stored = Transaction.objects.get(pk=sale.pk)
        assert (stored.memo, stored.kind) == ("", "license_sale")
        assert Account.objects.filter(pk=eur.cash.pk).exists()
