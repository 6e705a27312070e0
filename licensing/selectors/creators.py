"""Reads of creators and of a creator's ledger accounts, as the creator reads them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ledger.display import money_from_micros
from ledger.selectors import account_balance, accounts_of_owner
from licensing.accounts import CREATOR_OWNER_TYPE
from licensing.errors import LicensingError, LicensingErrorCode
from licensing.models import Creator


def creator_get(*, public_id: str) -> Creator:
    creator = Creator.objects.filter(public_id=public_id).first()
    if creator is None:
        raise LicensingError(LicensingErrorCode.CREATOR_NOT_FOUND, "No such creator.")
    return creator


def creators_by_public_ids(*, public_ids: Iterable[str]) -> dict[str, Creator]:
    return {
        creator.public_id: creator
        for creator in Creator.objects.filter(public_id__in=list(public_ids))
    }


@dataclass(frozen=True)
class LedgerAccountRow:
    code: str
    kind: str
    currency: str
    balance_micros: int
    balance_label: str


_CREDIT_NORMAL_KINDS = frozenset({"liability", "equity", "revenue"})


def creator_ledger_accounts(*, creator: Creator) -> list[LedgerAccountRow]:
    """The creator's ledger accounts with their balances, as the creator reads them.

    Balances are kept debit-positive in the books; an account Accord owes the creator
    (a liability) is shown credit-positive, so money owed to them reads as positive.
    """
    rows = []
    for account in accounts_of_owner(owner_type=CREATOR_OWNER_TYPE, owner_id=creator.public_id):
        micros = account_balance(account)
        shown = -micros if account.kind in _CREDIT_NORMAL_KINDS else micros
        rows.append(
            LedgerAccountRow(
                code=account.code,
                kind=account.kind,
                currency=account.currency,
                balance_micros=micros,
                balance_label=money_from_micros(shown, account.currency),
            )
        )
    return rows
