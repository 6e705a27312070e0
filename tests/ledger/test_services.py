"""ledger.services: posting, idempotency, reversal and opening accounts, on both databases."""

from __future__ import annotations

import pytest
from django.db import transaction

from ledger import bulk, inserts, posting
from ledger.errors import LedgerError
from ledger.models import Account, Entry, Transaction
from ledger.services import (
    AccountRef,
    Leg,
    Posting,
    accounts_open,
    owner_accounts_open,
    platform_account,
    transaction_post,
    transaction_reverse,
    transactions_post_many,
)
from tests.ledger.conftest import Books, books_open, deferred_checks_run

pytestmark = pytest.mark.django_db


def _entries(row: Transaction) -> list[tuple[str, int, str]]:
    return [
        (entry.account.code, entry.amount_micros, entry.currency)
        for entry in row.entries.select_related("account").order_by("id")
    ]


def _written() -> tuple[int, int]:
    return Transaction.objects.count(), Entry.objects.count()


class TestPost:
    def test_writes_balanced_entries_with_exact_amounts(self, eur: Books) -> None:
        posted = transaction_post(
            idempotency_key="sale-1",
            kind="license_sale",
            legs=eur.sale(10_000_000, 2_000_000),
            reference="license:lic_1",
            memo="first sale",
        )
        deferred_checks_run()

        stored = Transaction.objects.get(pk=posted.pk)
        assert (stored.kind, stored.reference, stored.memo) == (
            "license_sale",
            "license:lic_1",
            "first sale",
        )
        assert stored.created_at == posted.created_at
        assert _entries(stored) == [
            ("platform:stripe_balance:eur", 10_000_000, "eur"),
            ("creator:ada-eur:payable:eur", -8_000_000, "eur"),
            ("platform:commission:eur", -2_000_000, "eur"),
        ]
        assert {entry.created_at for entry in stored.entries.all()} == {stored.created_at}

    def test_a_posting_past_the_scalar_statement_posts_each_leg_and_replays(
        self, eur: Books
    ) -> None:
        count = inserts.SCALAR_LEGS_MAX + 150
        payables = accounts_open(
            refs=[
                AccountRef.owner(
                    owner_type="creator",
                    owner_id=f"c{n:03}",
                    name="payable",
                    kind="liability",
                    currency="eur",
                )
                for n in range(count)
            ]
        )
        legs = [Leg(eur.cash, count * 1_001)]
        legs += [Leg(account, -1_001) for account in payables.values()]

        posted = transaction_post(idempotency_key="wide", kind="sale", legs=legs)
        deferred_checks_run()
        before = _written()
        again = transaction_post(idempotency_key="wide", kind="sale", legs=legs[::-1])

        assert again.pk == posted.pk
        assert _written() == before
        stored = _entries(posted)
        assert len(stored) == count + 1
        assert stored[0] == ("platform:stripe_balance:eur", count * 1_001, "eur")
        assert sorted(stored[1:]) == [
            (f"creator:c{n:03}:payable:eur", -1_001, "eur") for n in range(count)
        ]

    def test_replay_returns_the_first_transaction_and_writes_nothing(self, eur: Books) -> None:
        first = transaction_post(idempotency_key="k", kind="sale", legs=eur.sale(500, 100))
        before = _written()

        again = transaction_post(idempotency_key="k", kind="sale", legs=eur.sale(500, 100))

        assert again.pk == first.pk
        assert again.created_at == first.created_at
        assert _written() == before

    def test_leg_order_does_not_make_another_posting(self, eur: Books) -> None:
        first = transaction_post(idempotency_key="k", kind="sale", legs=eur.sale(500, 100))
        again = transaction_post(
            idempotency_key="k", kind="sale", legs=list(reversed(eur.sale(500, 100)))
        )
        assert again.pk == first.pk

    @pytest.mark.parametrize(
        "change",
        [
            {"legs_amount": 600},
            {"kind": "refund"},
            {"reference": "license:other"},
            {"memo": "edited"},
        ],
    )
    def test_same_key_other_content_is_a_conflict(self, eur: Books, change: dict) -> None:
        transaction_post(idempotency_key="k", kind="sale", legs=eur.sale(500, 100))
        before = _written()
        arguments = {
            "idempotency_key": "k",
            "kind": change.get("kind", "sale"),
            "legs": eur.sale(change.get("legs_amount", 500), 100),
            "reference": change.get("reference", ""),
            "memo": change.get("memo", ""),
        }
        with pytest.raises(LedgerError) as caught:
            transaction_post(**arguments)
        assert caught.value.code == "idempotency_key_conflict"
        assert caught.value.http_status == 409
        assert _written() == before

    def test_unbalanced_is_refused_and_nothing_written(self, eur: Books) -> None:
        with pytest.raises(LedgerError) as caught:
            transaction_post(
                idempotency_key="k",
                kind="sale",
                legs=[Leg(eur.cash, 1_000), Leg(eur.commission, -999)],
            )
        assert caught.value.code == "unbalanced"
        assert caught.value.details == [{"currency": "eur", "sum_micros": 1}]
        assert _written() == (0, 0)

    def test_each_currency_must_balance_on_its_own(self, eur: Books, usd: Books) -> None:
        with pytest.raises(LedgerError) as caught:
            transaction_post(
                idempotency_key="fx",
                kind="fx",
                legs=[Leg(eur.cash, 1_000), Leg(usd.cash, -1_000)],
            )
        assert caught.value.code == "unbalanced"
        assert caught.value.details == [
            {"currency": "eur", "sum_micros": 1_000},
            {"currency": "usd", "sum_micros": -1_000},
        ]
        fx = transaction_post(
            idempotency_key="fx",
            kind="fx",
            legs=[
                Leg(eur.cash, 1_000),
                Leg(eur.commission, -1_000),
                Leg(usd.cash, -1_080),
                Leg(usd.commission, 1_080),
            ],
        )
        deferred_checks_run()
        assert fx.entries.count() == 4

    def test_claimed_currency_must_match_the_account(self, eur: Books) -> None:
        with pytest.raises(LedgerError) as caught:
            transaction_post(
                idempotency_key="k",
                kind="sale",
                legs=[Leg(eur.cash, 1_000, "usd"), Leg(eur.commission, -1_000, "eur")],
            )
        assert caught.value.code == "currency_mismatch"
        assert caught.value.param == "legs[0]"
        assert _written() == (0, 0)

    def test_stale_account_currency_is_caught_by_the_database_rules(self, eur: Books) -> None:
        stale = Account.objects.get(pk=eur.cash.pk)
        stale.currency = "usd"  # in memory only; the account is in eur
        other = Account.objects.get(pk=eur.commission.pk)
        other.currency = "usd"
        with pytest.raises(LedgerError) as caught:
            transaction_post(
                idempotency_key="k", kind="sale", legs=[Leg(stale, 1_000), Leg(other, -1_000)]
            )
        assert caught.value.code == "currency_mismatch"
        assert _written() == (0, 0)

    def test_unknown_account_is_refused(self, eur: Books) -> None:
        ghost = Account(pk=999_999, code="ghost", kind="asset", currency="eur")
        with pytest.raises(LedgerError) as caught:
            transaction_post(
                idempotency_key="k", kind="sale", legs=[Leg(ghost, 1_000), Leg(eur.cash, -1_000)]
            )
        assert caught.value.code == "account_not_found"
        assert _written() == (0, 0)

    @pytest.mark.parametrize(
        ("legs", "code"),
        [
            ("one", "too_few_legs"),
            ("zero", "amount_invalid"),
            ("float", "amount_invalid"),
            ("bool", "amount_invalid"),
            ("huge", "amount_invalid"),
            ("unsaved", "account_not_found"),
            ("not_a_leg", "field_invalid"),
            ("too_many", "too_many_legs"),
        ],
    )
    def test_invalid_legs_have_codes(self, eur: Books, legs: str, code: str) -> None:
        cases = {
            "one": [Leg(eur.cash, 0)][:1],
            "zero": [Leg(eur.cash, 0), Leg(eur.commission, 0)],
            "float": [Leg(eur.cash, 1.5), Leg(eur.commission, -1.5)],
            "bool": [Leg(eur.cash, True), Leg(eur.commission, -1)],
            "huge": [Leg(eur.cash, 10**18), Leg(eur.commission, -(10**18))],
            "unsaved": [Leg(Account(code="x", currency="eur"), 1), Leg(eur.cash, -1)],
            "not_a_leg": [object(), Leg(eur.cash, -1)],
            "too_many": [Leg(eur.cash, 1), Leg(eur.commission, -1)] * (posting.LEGS_MAX // 2 + 1),
        }
        with pytest.raises(LedgerError) as caught:
            transaction_post(idempotency_key="k", kind="sale", legs=cases[legs])
        assert caught.value.code == code
        assert _written() == (0, 0)

    @pytest.mark.parametrize(
        ("field", "value", "code"),
        [
            ("idempotency_key", "", "idempotency_key_invalid"),
            ("idempotency_key", "k" * 256, "idempotency_key_invalid"),
            ("kind", "", "field_invalid"),
            ("reference", "r" * 256, "field_invalid"),
            ("memo", None, "field_invalid"),
        ],
    )
    def test_invalid_fields_have_codes(
        self, eur: Books, field: str, value: object, code: str
    ) -> None:
        arguments = {"idempotency_key": "k", "kind": "sale", "legs": eur.sale(10, 1), field: value}
        with pytest.raises(LedgerError) as caught:
            transaction_post(**arguments)
        assert (caught.value.code, caught.value.param) == (code, field)

    def test_a_refused_posting_leaves_the_callers_transaction_usable(self, eur: Books) -> None:
        with transaction.atomic():
            transaction_post(idempotency_key="a", kind="sale", legs=eur.sale(10, 1))
            with pytest.raises(LedgerError):
                transaction_post(idempotency_key="a", kind="sale", legs=eur.sale(20, 1))
            transaction_post(idempotency_key="b", kind="sale", legs=eur.sale(30, 1))
        assert list(Transaction.objects.values_list("idempotency_key", flat=True)) == ["a", "b"]

    def test_the_callers_rollback_takes_the_posting_with_it(self, eur: Books) -> None:
        def sale_failing_after_posting() -> None:
            with transaction.atomic():
                transaction_post(idempotency_key="a", kind="sale", legs=eur.sale(10, 1))
                raise RuntimeError("the sale failed after posting")

        with pytest.raises(RuntimeError):
            sale_failing_after_posting()
        assert _written() == (0, 0)


class TestPostMany:
    def _postings(self, books: Books, count: int, prefix: str = "m") -> list[Posting]:
        return [
            Posting(f"{prefix}-{index}", "sale", books.sale(1_000 + index, 100), f"license:{index}")
            for index in range(count)
        ]

    @pytest.mark.parametrize("count", [3, bulk.COPY_BATCH_SIZE_MIN + 5])
    def test_posts_every_transaction_in_order(self, eur: Books, count: int) -> None:
        posted = transactions_post_many(postings=self._postings(eur, count))
        deferred_checks_run()

        assert [row.idempotency_key for row in posted] == [f"m-{i}" for i in range(count)]
        assert [row.pk for row in posted] == sorted(row.pk for row in posted)
        assert _written() == (count, 3 * count)
        last = Transaction.objects.get(pk=posted[-1].pk)
        assert last.created_at == posted[-1].created_at
        assert _entries(last)[0] == ("platform:stripe_balance:eur", 1_000 + count - 1, "eur")

    @pytest.mark.parametrize("count", [3, bulk.COPY_BATCH_SIZE_MIN + 5])
    def test_replays_inside_a_batch_return_the_earlier_rows(self, eur: Books, count: int) -> None:
        earlier = transactions_post_many(postings=self._postings(eur, 2))
        batch = self._postings(eur, count)
        posted = transactions_post_many(postings=batch)

        assert [row.pk for row in posted[:2]] == [row.pk for row in earlier]
        assert _written() == (count, 3 * count)

    def test_a_key_twice_in_one_batch_is_posted_once(self, eur: Books) -> None:
        twice = self._postings(eur, 1) * 2
        posted = transactions_post_many(postings=twice)
        assert posted[0].pk == posted[1].pk
        assert _written() == (1, 3)

    @pytest.mark.parametrize("count", [2, bulk.COPY_BATCH_SIZE_MIN + 5])
    def test_a_key_twice_with_other_content_rejects_the_batch(self, eur: Books, count: int) -> None:
        batch = [*self._postings(eur, count), Posting("m-0", "sale", eur.sale(5, 1))]
        with pytest.raises(LedgerError) as caught:
            transactions_post_many(postings=batch)
        assert caught.value.code == "idempotency_key_conflict"
        assert _written() == (0, 0)

    @pytest.mark.parametrize("count", [3, bulk.COPY_BATCH_SIZE_MIN + 5])
    def test_a_conflicting_replay_rejects_the_batch(self, eur: Books, count: int) -> None:
        transaction_post(idempotency_key="m-1", kind="sale", legs=eur.sale(7, 1))
        with pytest.raises(LedgerError) as caught:
            transactions_post_many(postings=self._postings(eur, count))
        assert caught.value.code == "idempotency_key_conflict"
        assert _written() == (1, 3)

    @pytest.mark.parametrize("count", [3, bulk.COPY_BATCH_SIZE_MIN + 5])
    def test_an_invalid_posting_rejects_the_batch_and_names_its_index(
        self, eur: Books, count: int
    ) -> None:
        batch = self._postings(eur, count)
        batch[1] = Posting("bad", "sale", [Leg(eur.cash, 5), Leg(eur.commission, -4)])
        with pytest.raises(LedgerError) as caught:
            transactions_post_many(postings=batch)
        assert caught.value.code == "unbalanced"
        assert caught.value.details == [{"index": 1, "param": "legs", "code": "unbalanced"}]
        assert _written() == (0, 0)

    def test_batch_size_is_bounded(self, eur: Books) -> None:
        too_many = [Posting("k", "sale", [])] * (posting.BATCH_SIZE_MAX + 1)
        with pytest.raises(LedgerError) as caught:
            transactions_post_many(postings=too_many)
        assert caught.value.code == "batch_too_large"

    def test_empty_batch(self, db: None) -> None:
        assert transactions_post_many(postings=[]) == []

    def test_texts_with_copy_special_characters_survive(self, eur: Books) -> None:
        tricky = "tab\there\\N back\\slash\nnew line\r"
        batch = [
            Posting(f"{tricky}-{index}", "sale", eur.sale(10, 1), tricky, tricky)
            for index in range(bulk.COPY_BATCH_SIZE_MIN)
        ]
        posted = transactions_post_many(postings=batch)
        stored = Transaction.objects.get(pk=posted[0].pk)
        assert (stored.idempotency_key, stored.reference, stored.memo) == (
            f"{tricky}-0",
            tricky,
            tricky,
        )
        assert transactions_post_many(postings=batch)[0].pk == posted[0].pk


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_the_very_first_batch_on_a_fresh_sequence_is_complete() -> None:
    """A fresh sequence's last_value is the *next* id; the first bulk batch must count it."""
    books = books_open("eur")
    batch = [
        Posting(f"first-{index}", "sale", books.sale(1_000 + index, 100))
        for index in range(bulk.COPY_BATCH_SIZE_MIN)
    ]
    posted = transactions_post_many(postings=batch)
    assert [row.idempotency_key for row in posted] == [p.idempotency_key for p in batch]
    assert posted[0].pk == 1
    assert Entry.objects.count() == 3 * bulk.COPY_BATCH_SIZE_MIN


class TestReverse:
    def test_posts_the_mirror_image(self, eur: Books) -> None:
        sale = transaction_post(
            idempotency_key="s", kind="sale", legs=eur.sale(10_000, 2_500), reference="license:l"
        )
        reversal = transaction_reverse(transaction=sale, memo="charged twice")
        deferred_checks_run()

        assert (reversal.kind, reversal.reverses_id, reversal.reference) == (
            "reversal",
            sale.pk,
            "license:l",
        )
        assert reversal.idempotency_key == f"reversal:{sale.pk}"
        assert _entries(reversal) == [
            (code, -amount, currency) for code, amount, currency in _entries(sale)
        ]

    def test_retrying_returns_the_same_reversal(self, eur: Books) -> None:
        sale = transaction_post(idempotency_key="s", kind="sale", legs=eur.sale(10, 1))
        first = transaction_reverse(transaction=sale)
        assert transaction_reverse(transaction=sale).pk == first.pk
        assert _written() == (2, 6)

    def test_a_transaction_is_reversed_once(self, eur: Books) -> None:
        sale = transaction_post(idempotency_key="s", kind="sale", legs=eur.sale(10, 1))
        transaction_reverse(transaction=sale, idempotency_key="undo-1")
        with pytest.raises(LedgerError) as caught:
            transaction_reverse(transaction=sale, idempotency_key="undo-2")
        assert caught.value.code == "already_reversed"
        assert caught.value.http_status == 409
        assert _written() == (2, 6)

    def test_only_a_posted_transaction_can_be_reversed(self, db: None) -> None:
        with pytest.raises(LedgerError) as caught:
            transaction_reverse(transaction=Transaction(kind="sale"))
        assert caught.value.code == "transaction_not_found"


class TestAccounts:
    def test_owner_accounts_are_opened_with_their_codes(self, db: None) -> None:
        opened = owner_accounts_open(
            owner_type="creator",
            owner_id="crt_42",
            currency="EUR",
            accounts={"payable": "liability", "withheld": "liability"},
        )
        assert {name: (a.code, a.kind, a.currency) for name, a in opened.items()} == {
            "payable": ("creator:crt_42:payable:eur", "liability", "eur"),
            "withheld": ("creator:crt_42:withheld:eur", "liability", "eur"),
        }
        assert opened["payable"].owner_type == "creator"
        assert opened["payable"].owner_id == "crt_42"

    def test_opening_again_returns_the_same_accounts(self, db: None) -> None:
        first = owner_accounts_open(
            owner_type="creator", owner_id="c", currency="usd", accounts={"payable": "liability"}
        )
        again = owner_accounts_open(
            owner_type="creator", owner_id="c", currency="usd", accounts={"payable": "liability"}
        )
        assert again["payable"].pk == first["payable"].pk
        assert Account.objects.count() == 1

    def test_reopening_with_another_kind_is_a_conflict(self, db: None) -> None:
        owner_accounts_open(
            owner_type="creator", owner_id="c", currency="usd", accounts={"payable": "liability"}
        )
        with pytest.raises(LedgerError) as caught:
            owner_accounts_open(
                owner_type="creator", owner_id="c", currency="usd", accounts={"payable": "asset"}
            )
        assert caught.value.code == "account_conflict"

    @pytest.mark.parametrize(
        ("arguments", "code"),
        [
            ({"owner_id": "a:b"}, "account_name_invalid"),
            ({"owner_type": ""}, "account_name_invalid"),
            ({"accounts": {"pay:able": "liability"}}, "account_name_invalid"),
            ({"accounts": {"payable": "wallet"}}, "account_kind_invalid"),
            ({"accounts": {}}, "field_invalid"),
            ({"currency": "xyz"}, "currency_unsupported"),
        ],
    )
    def test_invalid_requests_have_codes(self, db: None, arguments: dict, code: str) -> None:
        request = {
            "owner_type": "creator",
            "owner_id": "c",
            "currency": "eur",
            "accounts": {"payable": "liability"},
            **arguments,
        }
        with pytest.raises(LedgerError) as caught:
            owner_accounts_open(**request)
        assert caught.value.code == code
        assert Account.objects.count() == 0

    def test_platform_accounts_are_get_or_create(self, db: None) -> None:
        first = platform_account(name="commission", kind="revenue", currency="eur")
        assert first.code == "platform:commission:eur"
        assert platform_account(name="commission", kind="revenue", currency="eur").pk == first.pk
        assert first.normal_sign == -1
        assert (
            platform_account(name="stripe_balance", kind="asset", currency="eur").normal_sign == 1
        )


@pytest.mark.parametrize("count", [3, 16, 17, 40])
def test_accounts_open_finds_what_exists_and_opens_the_rest_whatever_their_number(
    count: int,
) -> None:
    refs = [
        AccountRef.owner(
            owner_type="creator", owner_id=f"cr_{index}", name="payable", kind="liability",
            currency="eur",
        )
        for index in range(count)
    ]  # fmt: skip
    existing = accounts_open(refs=refs[: count // 2])

    opened = accounts_open(refs=refs)

    assert list(opened) == refs
    assert {ref: opened[ref].pk for ref in existing} == {
        ref: account.pk for ref, account in existing.items()
    }
    assert Account.objects.filter(owner_type="creator").count() == count
    assert {account.code for account in opened.values()} == {
        f"creator:cr_{index}:payable:eur" for index in range(count)
    }


def test_accounts_open_refuses_an_existing_code_of_another_kind() -> None:
    ref = AccountRef.owner(
        owner_type="creator", owner_id="cr_x", name="payable", kind="liability", currency="eur"
    )
    accounts_open(refs=[ref])
    clash = AccountRef.owner(
        owner_type="creator", owner_id="cr_x", name="payable", kind="asset", currency="eur"
    )
    with pytest.raises(LedgerError) as refused:
        accounts_open(refs=[clash])
    assert refused.value.code == "account_conflict"
