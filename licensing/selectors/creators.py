"""Reads of creators and of a creator's ledger accounts, as the creator reads them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from ledger.selectors import account_balance, accounts_of_owner
from licensing.currencies import SUPPORTED_CURRENCIES
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


def _micros_label(micros: int, currency: str) -> str:
    """Write micros in major units, keeping sub-cent digits only when there are any."""
    exponent = SUPPORTED_CURRENCIES.get(currency, 2)
    major = Decimal(micros).scaleb(-6)
    text = format(major.quantize(Decimal(1).scaleb(-6)), "f").rstrip("0")
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(exponent, '0')}" if exponent or fraction else whole


def creator_ledger_accounts(*, creator: Creator) -> list[LedgerAccountRow]:
    """The creator's ledger accounts with their balances, as the creator reads them.

    Balances are kept debit-positive in the books; an account Accord owes the creator
    (a liability) is shown credit-positive, so money owed to them reads as positive.
    """
    rows = []
    for account in accounts_of_owner(owner_type="creator", owner_id=creator.public_id):
        micros = account_balance(account)
        shown = -micros if account.kind in _CREDIT_NORMAL_KINDS else micros
        rows.append(
            LedgerAccountRow(
                code=account.code,
                kind=account.kind,
                currency=account.currency,
                balance_micros=micros,
                balance_label=_micros_label(shown, account.currency),
            )
        )
    return rows
