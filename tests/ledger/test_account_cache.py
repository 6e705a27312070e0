"""ledger.account_cache: accounts once committed are found without a statement, and only those."""

from __future__ import annotations

import pytest
from django.db import transaction

from ledger import account_cache
from ledger.errors import LedgerError
from ledger.models import Account
from ledger.services import AccountRef, accounts_open

pytestmark = pytest.mark.django_db


def _payable(owner_id: str, kind: str = "liability") -> AccountRef:
    return AccountRef.owner(
        owner_type="creator", owner_id=owner_id, name="payable", kind=kind, currency="eur"
    )


class _RolledBack(Exception):
    pass


def test_a_committed_account_is_found_again_without_a_statement(
    django_capture_on_commit_callbacks, django_assert_num_queries
) -> None:
    refs = [_payable("cr_a"), _payable("cr_b")]
    with django_capture_on_commit_callbacks(execute=True):
        opened = accounts_open(refs=refs)

    with django_assert_num_queries(0):
        again = accounts_open(refs=refs)

    assert list(again) == refs
    assert {ref: account.pk for ref, account in again.items()} == {
        ref: account.pk for ref, account in opened.items()
    }
    assert [again[ref].code for ref in refs] == [
        "creator:cr_a:payable:eur",
        "creator:cr_b:payable:eur",
    ]


def test_an_uncached_reference_among_cached_ones_reads_only_itself_and_keeps_the_order(
    django_capture_on_commit_callbacks, django_assert_num_queries
) -> None:
    first, second, third = _payable("cr_a"), _payable("cr_b"), _payable("cr_c")
    with django_capture_on_commit_callbacks(execute=True):
        accounts_open(refs=[first, third])
    accounts_open(refs=[second])  # committed by nobody: not cached

    with django_assert_num_queries(1):
        opened = accounts_open(refs=[first, second, third])

    assert list(opened) == [first, second, third]
    assert Account.objects.filter(owner_type="creator").count() == 3


def test_an_account_opened_in_a_transaction_that_rolled_back_is_not_cached(
    django_capture_on_commit_callbacks,
) -> None:
    ref = _payable("cr_gone")

    def open_then_roll_back() -> None:
        with transaction.atomic():
            accounts_open(refs=[ref])
            raise _RolledBack

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(_RolledBack):
        open_then_roll_back()

    opened = accounts_open(refs=[ref])[ref]

    assert account_cache.accounts_cached([ref]) == {}
    assert Account.objects.filter(pk=opened.pk).exists()


def test_each_caller_gets_an_instance_of_its_own(django_capture_on_commit_callbacks) -> None:
    ref = _payable("cr_a")
    with django_capture_on_commit_callbacks(execute=True):
        accounts_open(refs=[ref])
    mine = accounts_open(refs=[ref])[ref]

    mine.name = "changed by one caller"

    assert accounts_open(refs=[ref])[ref].name == "creator cr_a payable (eur)"


def test_a_cached_code_asked_for_with_another_kind_is_still_refused(
    django_capture_on_commit_callbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        accounts_open(refs=[_payable("cr_x")])

    with pytest.raises(LedgerError) as refused:
        accounts_open(refs=[_payable("cr_x", kind="asset")])

    assert refused.value.code == "account_conflict"


def test_the_cache_is_bounded(django_capture_on_commit_callbacks, monkeypatch) -> None:
    monkeypatch.setattr(account_cache, "ACCOUNTS_CACHED_MAX", 2)
    refs = [_payable(f"cr_{index}") for index in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        accounts_open(refs=refs[:2])
    with django_capture_on_commit_callbacks(execute=True):
        accounts_open(refs=refs[2:])

    assert list(account_cache.accounts_cached(refs)) == [refs[2]]
