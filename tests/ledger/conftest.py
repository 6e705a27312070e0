"""Fixtures for the ledger tests: a small chart of accounts, opened by the real services."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db import connection

from ledger.models import Account
from ledger.services import Leg, owner_accounts_open, platform_account


@dataclass(frozen=True)
class Books:
    """The accounts a licence sale touches, in one currency."""

    currency: str
    cash: Account
    commission: Account
    payable: Account
    other_payable: Account

    def sale(self, amount_micros: int, commission_micros: int) -> list[Leg]:
        """Legs of a sale: cash in, the creator's share and the commission out."""
        return [
            Leg(self.cash, amount_micros),
            Leg(self.payable, -(amount_micros - commission_micros)),
            Leg(self.commission, -commission_micros),
        ]


def books_open(currency: str) -> Books:
    creators = {
        name: owner_accounts_open(
            owner_type="creator",
            owner_id=f"{name}-{currency}",
            currency=currency,
            accounts={"payable": "liability"},
        )["payable"]
        for name in ("ada", "ben")
    }
    return Books(
        currency=currency,
        cash=platform_account(name="stripe_balance", kind="asset", currency=currency),
        commission=platform_account(name="commission", kind="revenue", currency=currency),
        payable=creators["ada"],
        other_payable=creators["ben"],
    )


@pytest.fixture
def eur(db: None) -> Books:
    return books_open("eur")


@pytest.fixture
def usd(db: None) -> Books:
    return books_open("usd")


def on_postgresql() -> bool:
    return connection.vendor == "postgresql"


def deferred_checks_run() -> None:
    """Fire PostgreSQL's deferred constraint triggers now, as COMMIT would.

    Tests run inside a transaction that never commits; this makes the database's
    own balance check look at everything written so far.
    """
    if on_postgresql():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
