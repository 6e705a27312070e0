"""The payable invariant itself fails where it must and holds in the legitimate case.

No worker, no sandbox: postings written straight through the ledger's services, as
the payout and royalty code would write them, and the check run on them.
"""

from __future__ import annotations

import pytest

from ledger.services import Leg, accounts_open, transaction_post
from licensing.accounts import creator_payable, platform_commission, platform_payouts_in_transit
from tests.simulation.invariants_payouts import check_no_payout_overdraws_a_payable

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def accounts():
    refs = {
        "payable": creator_payable("crt_sim", "eur"),
        "transit": platform_payouts_in_transit("eur"),
        "income": platform_commission("eur"),
    }
    opened = accounts_open(refs=list(refs.values()))
    return {name: opened[ref] for name, ref in refs.items()}


def _move(key: str, kind: str, debit, credit, micros: int) -> None:
    transaction_post(
        idempotency_key=key, kind=kind, legs=[Leg(debit, micros), Leg(credit, -micros)]
    )


def test_a_payout_beyond_the_payable_is_found(accounts) -> None:
    _move("earn", "royalty", accounts["income"], accounts["payable"], 1_000_000)
    _move("pay", "payout_submit", accounts["payable"], accounts["transit"], 1_000_001)

    with pytest.raises(AssertionError, match="took a payable into debit"):
        check_no_payout_overdraws_a_payable()


def test_a_debit_after_the_payout_is_the_creator_owing_not_an_overdraw(accounts) -> None:
    _move("earn", "royalty", accounts["income"], accounts["payable"], 1_000_000)
    _move("pay", "payout_submit", accounts["payable"], accounts["transit"], 1_000_000)
    # A negative adjustment posted after the money left: the payable is in debit.
    _move("adjust", "royalty", accounts["payable"], accounts["income"], 400_000)
    _move("earn-2", "royalty", accounts["income"], accounts["payable"], 900_000)
    _move("pay-2", "payout_submit", accounts["payable"], accounts["transit"], 500_000)

    check_no_payout_overdraws_a_payable()
