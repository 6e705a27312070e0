"""Demo books: a small, realistic month of postings in eur and usd.

Until the catalogue and payouts post real sales, this gives the demo something to
show: licensees paying by card and on invoice, each payment split between creators'
payables (co-owners by the largest-remainder method) and the platform's commission,
per-retrieval royalties in fractions of a cent, a Stripe fee, payouts rounded down to
whole cents (the sub-cent remainder stays owed), and a mistaken sale reversed.

Every posting has a fixed idempotency key, so loading twice changes nothing. The
loader returns no logins; it is listed in `payouts.demo.DEMO_LOADERS` and must not
import `payouts` (which depends on the ledger, not the other way round).
"""

from __future__ import annotations

from ledger.models import Account, Transaction
from ledger.money import minor_to_micros, round_down_to_minor, split_largest_remainder
from ledger.sealing import chain_verify
from ledger.selectors import account_balance, transaction_get
from ledger.services import (
    Leg,
    ledger_seal,
    owner_accounts_open,
    platform_account,
    transaction_post,
    transaction_reverse,
)

COMMISSION_PERCENT = 20
LICENSEE = "demo-lumen-labs"


def _platform(currency: str) -> dict[str, Account]:
    return {
        "cash": platform_account(name="stripe_balance", kind="asset", currency=currency),
        "commission": platform_account(name="commission", kind="revenue", currency=currency),
        "fees": platform_account(name="stripe-fees", kind="expense", currency=currency),
    }


def _payable(creator: str, currency: str) -> Account:
    return owner_accounts_open(
        owner_type="creator", owner_id=creator, currency=currency, accounts={"payable": "liability"}
    )["payable"]


def _sale(
    *,
    key: str,
    debit: Account,
    amount_micros: int,
    owners: dict[Account, int],
    commission: Account,
    reference: str,
) -> Transaction:
    """Post a payment: the debit side in full, creators' shares and commission as credits."""
    shares = split_largest_remainder(
        amount_micros, {"creators": 100 - COMMISSION_PERCENT, "commission": COMMISSION_PERCENT}
    )
    creator_parts = split_largest_remainder(
        shares["creators"], owners, tie_break=lambda account: account.code
    )
    legs = [Leg(debit, amount_micros), Leg(commission, -shares["commission"])]
    legs += [Leg(account, -part) for account, part in creator_parts.items()]
    return transaction_post(
        idempotency_key=key, kind="license_sale", legs=legs, reference=reference
    )


def _payout(*, key: str, creator_payable: Account, cash: Account) -> Transaction | None:
    """Pay what is owed in whole cents; the sub-cent remainder stays on the payable."""
    already_paid = transaction_get(idempotency_key=key)
    if already_paid is not None:
        return already_paid  # what is owed now excludes it; recomputing would differ
    owed = -account_balance(creator_payable)
    payable_micros, _remainder = round_down_to_minor(owed, creator_payable.currency)
    if payable_micros <= 0:
        return None
    return transaction_post(
        idempotency_key=key,
        kind="payout",
        legs=[Leg(creator_payable, payable_micros), Leg(cash, -payable_micros)],
        reference=f"payout:{key}",
    )


def _eur_month() -> None:
    eur = _platform("eur")
    ada, cleo, dan = (_payable(name, "eur") for name in ("demo-ada", "demo-cleo", "demo-dan"))
    _sale(
        key="demo:eur:sale:1", debit=eur["cash"], amount_micros=minor_to_micros(25_000, "eur"),
        owners={ada: 1}, commission=eur["commission"], reference="license:demo-lic-1",
    )  # fmt: skip
    # A co-owned work (60/40): 99.99 EUR leaves fractions of a cent to distribute.
    _sale(
        key="demo:eur:sale:2", debit=eur["cash"], amount_micros=minor_to_micros(9_999, "eur"),
        owners={cleo: 60, dan: 40}, commission=eur["commission"], reference="license:demo-lic-2",
    )  # fmt: skip
    mistaken = _sale(
        key="demo:eur:sale:3", debit=eur["cash"], amount_micros=minor_to_micros(25_000, "eur"),
        owners={ada: 1}, commission=eur["commission"], reference="license:demo-lic-1",
    )  # fmt: skip
    transaction_reverse(transaction=mistaken, memo="Charged twice for license demo-lic-1")
    transaction_post(
        idempotency_key="demo:eur:fee:1",
        kind="processor_fee",
        legs=[
            Leg(eur["fees"], minor_to_micros(755, "eur")),
            Leg(eur["cash"], -minor_to_micros(755, "eur")),
        ],
        reference="stripe:demo-balance-txn-1",
    )
    for creator, payable in (("ada", ada), ("cleo", cleo), ("dan", dan)):
        _payout(key=f"demo:eur:payout:{creator}:1", creator_payable=payable, cash=eur["cash"])


def _usd_month() -> None:
    usd = _platform("usd")
    ben = _payable("demo-ben", "usd")
    receivable = owner_accounts_open(
        owner_type="organisation", owner_id=LICENSEE, currency="usd",
        accounts={"receivable": "asset"},
    )["receivable"]  # fmt: skip
    # On invoice billing: the license is booked against the licensee's receivable...
    license_micros = minor_to_micros(100_000, "usd")
    _sale(
        key="demo:usd:sale:1", debit=receivable, amount_micros=license_micros,
        owners={ben: 1}, commission=usd["commission"], reference="license:demo-lic-3",
    )  # fmt: skip
    # ...as are 12,345 retrievals at 0.042 cents each (420 micros): 5.1849 USD...
    usage_micros = 12_345 * 420
    _sale(
        key="demo:usd:usage:1", debit=receivable, amount_micros=usage_micros,
        owners={ben: 1}, commission=usd["commission"], reference="usage:demo-lic-4:2025-05",
    )  # fmt: skip
    # ...and the invoice is paid in whole cents; the remainder stays receivable.
    paid_micros, _ = round_down_to_minor(license_micros + usage_micros, "usd")
    transaction_post(
        idempotency_key="demo:usd:invoice-paid:1",
        kind="invoice_payment",
        legs=[Leg(usd["cash"], paid_micros), Leg(receivable, -paid_micros)],
        reference="invoice:demo-inv-1",
    )
    _payout(key="demo:usd:payout:ben:1", creator_payable=ben, cash=usd["cash"])


def demo_ledger_load() -> list:
    """Post the demo month (idempotent); return no logins."""
    _eur_month()
    _usd_month()
    return []


def demo_ledger_seal() -> str:
    """Checkpoint and seal the books, then verify the chain; return a one-line summary."""
    summary = ledger_seal()
    report = chain_verify()
    verdict = "verified" if report.ok else f"FAILED at block {report.first_bad_block}"
    return (
        f"ledger: {summary}; chain {verdict} "
        f"({report.blocks_checked} blocks, {report.transactions_sealed} transactions)"
    )
