"""Reads of the books: balances now and as of any time, entry listings, trial balance.

Two clocks (docs/ledger.md, "Business time and recorded time"): `as_of` is a
business moment (entries effective at or before it), `recorded_as_of` a recording
moment (entries posted at or before it: what the books said then). Either may be
None: every entry, whatever its business time; every entry posted so far.

A recorded balance is the account's last checkpoint at or before the time asked plus
the entries stamped after it (up to that time), summed from the covering index
`ledger_entry_account_time`; see `ledger.checkpoints`. A balance as of a business
moment T is that minus the entries effective after T, summed from
`ledger_entry_account_effective`: exact however late an entry was backdated, and the
cost of the second sum grows with how far back T is, not with the account's size.
Each read is one query. Amounts are signed micros, debit positive: a creator's
payable (a liability) owes them `-account_balance(account=payable)`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.db.models import F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from config.api.pagination import after_cursor, decode_cursor, encode_cursor
from ledger.checkpoints import BEGINNING
from ledger.errors import LedgerError, LedgerErrorCode
from ledger.inserts import execute_prepared, server_bound_cursor
from ledger.models import Account, BalanceCheckpoint, Entry, SealBlock, Transaction

ENTRIES_LIMIT_MAX = 1_000
_ENTRY_ORDERING = ("effective_at", "id")


def account_get(*, code: str) -> Account:
    """Return the account with this code, or raise `account_not_found`."""
    account = Account.objects.filter(code=code).first()
    if account is None:
        raise LedgerError(LedgerErrorCode.ACCOUNT_NOT_FOUND, f"No account {code!r}.", param="code")
    return account


def accounts_of_owner(*, owner_type: str, owner_id: str) -> list[Account]:
    """Return an owner's accounts, ordered by code."""
    return list(Account.objects.filter(owner_type=owner_type, owner_id=owner_id).order_by("code"))


def transaction_get(*, idempotency_key: str) -> Transaction | None:
    """Return the transaction posted with this idempotency key, if any."""
    return Transaction.objects.filter(idempotency_key=idempotency_key).first()


def transactions_of_reference(*, reference: str) -> list[Transaction]:
    """Return the transactions posted for a business object (e.g. "license:lic_…")."""
    return list(
        Transaction.objects.filter(reference=reference).prefetch_related("entries").order_by("id")
    )


_BALANCE_SQL = """
SELECT COALESCE(checkpoint.balance_micros, 0) + COALESCE((
           SELECT SUM(entry.amount_micros) FROM ledger_entry AS entry
            WHERE entry.account_id = %s
              AND entry.created_at > COALESCE(checkpoint.as_of, %s){entry_until}
       ), 0){later}
  FROM (SELECT 1 AS one) AS single_row
  LEFT JOIN (
       SELECT as_of, balance_micros FROM ledger_balancecheckpoint
        WHERE account_id = %s{checkpoint_until}
        ORDER BY as_of DESC LIMIT 1
  ) AS checkpoint ON 1 = 1
"""
# What was posted (up to the recording moment) but is effective after the business one.
_LATER_SQL = """ - COALESCE((
           SELECT SUM(later.amount_micros) FROM ledger_entry AS later
            WHERE later.account_id = %s AND later.effective_at > %s{later_until}
       ), 0)"""


@functools.cache
def _balance_sql(*, business: bool, recorded: bool) -> str:
    until = " AND {0}.created_at <= %s" if recorded else ""
    later = _LATER_SQL.format(later_until=until.format("later")) if business else ""
    return _BALANCE_SQL.format(
        entry_until=until.format("entry"),
        later=later,
        checkpoint_until=" AND as_of <= %s" if recorded else "",
    )


def _balance_query(
    account: Account, as_of: datetime | None, recorded_as_of: datetime | None
) -> tuple[str, list[object]]:
    adapt = connection.ops.adapt_datetimefield_value
    recorded = [] if recorded_as_of is None else [adapt(recorded_as_of)]
    # Parameters in the statement's order: the tail, the later entries, the checkpoint.
    params: list[object] = [account.pk, adapt(BEGINNING), *recorded]
    if as_of is not None:
        params += [account.pk, adapt(as_of), *recorded]
    params += [account.pk, *recorded]
    sql = _balance_sql(business=as_of is not None, recorded=recorded_as_of is not None)
    return sql, params


def account_balance(
    account: Account,
    *,
    as_of: datetime | None = None,
    recorded_as_of: datetime | None = None,
) -> int:
    """Return the account's balance in micros (debit positive), now or as of a time.

    `as_of` T counts the entries effective at or before T (business time);
    `recorded_as_of` K only those posted at or before K that are committed now (what
    the books said at K). One query: the newest checkpoint at or before K (a backward
    probe of the (account, as_of) index) plus the entries after it, summed from the
    covering index, minus the entries effective after T, from the business-time index.
    """
    sql, params = _balance_query(account, as_of, recorded_as_of)
    if connection.vendor == "postgresql":
        # Prepared once per connection: planning would cost more than the read.
        with server_bound_cursor() as cursor:
            execute_prepared(cursor, sql, params)
            (balance,) = cursor.fetchone()
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            (balance,) = cursor.fetchone()
    return int(balance)


def _entries_sum(entries: QuerySet[Entry]) -> Coalesce:
    total = entries.order_by().values("account").annotate(total=Sum("amount_micros"))
    return Coalesce(Subquery(total.values("total")[:1]), Value(0))


def accounts_with_balances(
    accounts: QuerySet[Account] | None = None,
    *,
    as_of: datetime | None = None,
    recorded_as_of: datetime | None = None,
) -> QuerySet[Account]:
    """Annotate accounts with `balance_micros` (as `account_balance` reads it), in one query."""
    accounts = Account.objects.all() if accounts is None else accounts
    checkpoints = BalanceCheckpoint.objects.filter(account=OuterRef("pk"))
    posted = Entry.objects.filter(account=OuterRef("pk"))
    if recorded_as_of is not None:
        checkpoints = checkpoints.filter(as_of__lte=recorded_as_of)
        posted = posted.filter(created_at__lte=recorded_as_of)
    newest = checkpoints.order_by("-as_of")
    tail = posted.filter(created_at__gt=Coalesce(OuterRef("checkpoint_as_of"), Value(BEGINNING)))
    later = Value(0)
    if as_of is not None:
        later = _entries_sum(posted.filter(effective_at__gt=as_of))
    # Separate annotate() calls: the tail's subquery refers to checkpoint_as_of.
    return (
        accounts.annotate(
            checkpoint_as_of=Subquery(newest.values("as_of")[:1]),
            checkpoint_micros=Coalesce(Subquery(newest.values("balance_micros")[:1]), Value(0)),
        )
        .annotate(tail_micros=_entries_sum(tail), later_micros=later)
        .annotate(balance_micros=F("checkpoint_micros") + F("tail_micros") - F("later_micros"))
    )


def account_balances(
    accounts: Sequence[Account],
    *,
    as_of: datetime | None = None,
    recorded_as_of: datetime | None = None,
) -> dict[int, int]:
    """Return the balances of these accounts by account id, in one query.

    For statements and the trial balance: e.g. every creator payable's closing
    balance at a period's end, `account_balances(payables, as_of=period_end)`.
    """
    ids = [account.pk for account in accounts]
    rows = accounts_with_balances(
        Account.objects.filter(pk__in=ids), as_of=as_of, recorded_as_of=recorded_as_of
    ).values_list("pk", "balance_micros")
    return {pk: int(balance) for pk, balance in rows}


@dataclass(frozen=True)
class EntryPage:
    entries: list[Entry]
    has_more: bool
    next_cursor: str | None


def account_entries(
    account: Account,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> EntryPage:
    """Return a page of the account's entries effective in (since, until], oldest first.

    Business time, as `account_balance(as_of=...)`: `since` is exclusive and `until`
    inclusive, so consecutive windows never share an entry, `account_balance(as_of=
    since)` is the opening balance and `account_balance(as_of=until)` the closing
    one (for entries posted so far). Entries come ordered by (effective_at, id). Pass
    the page's `next_cursor` back as `cursor` for the next page (keyset pagination: a deep page
    costs what the first does). Each entry comes with its transaction.
    """
    if not 1 <= limit <= ENTRIES_LIMIT_MAX:
        raise LedgerError(
            LedgerErrorCode.FIELD_INVALID,
            f"limit must be from 1 to {ENTRIES_LIMIT_MAX}.",
            param="limit",
        )
    entries = Entry.objects.filter(account=account).select_related("transaction")
    if since is not None:
        entries = entries.filter(effective_at__gt=since)
    if until is not None:
        entries = entries.filter(effective_at__lte=until)
    if cursor:
        entries = entries.filter(
            after_cursor(_ENTRY_ORDERING, decode_cursor(cursor, Entry, _ENTRY_ORDERING))
        )
    rows = list(entries.order_by(*_ENTRY_ORDERING)[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1], _ENTRY_ORDERING) if has_more else None
    return EntryPage(entries=rows, has_more=has_more, next_cursor=next_cursor)


@dataclass(frozen=True)
class TrialBalanceLine:
    account_id: int
    code: str
    kind: str
    currency: str
    balance_micros: int


@dataclass(frozen=True)
class CurrencyTotals:
    debit_micros: int
    credit_micros: int

    @property
    def balanced(self) -> bool:
        return self.debit_micros == self.credit_micros


@dataclass(frozen=True)
class TrialBalance:
    as_of: datetime | None
    lines: list[TrialBalanceLine]
    totals: dict[str, CurrencyTotals] = field(default_factory=dict)
    recorded_as_of: datetime | None = None

    @property
    def balanced(self) -> bool:
        return all(totals.balanced for totals in self.totals.values())


def trial_balance(
    *,
    as_of: datetime | None = None,
    recorded_as_of: datetime | None = None,
    include_zero: bool = False,
) -> TrialBalance:
    """List every account's balance with debit and credit totals per currency.

    `as_of` is a business moment, `recorded_as_of` a recording one (see the module
    docstring). Double entry makes the totals equal in each currency at any pair of
    moments, since every entry of a transaction carries both its times; `balanced`
    says whether they are.
    """
    rows = accounts_with_balances(as_of=as_of, recorded_as_of=recorded_as_of).order_by(
        "currency", "code"
    )
    lines = [
        TrialBalanceLine(row.pk, row.code, row.kind, row.currency, int(row.balance_micros))
        for row in rows
        if include_zero or row.balance_micros
    ]
    debit: dict[str, int] = {}
    credit: dict[str, int] = {}
    for line in lines:
        debit.setdefault(line.currency, 0)
        credit.setdefault(line.currency, 0)
        if line.balance_micros > 0:
            debit[line.currency] += line.balance_micros
        else:
            credit[line.currency] -= line.balance_micros
    totals = {currency: CurrencyTotals(debit[currency], credit[currency]) for currency in debit}
    return TrialBalance(as_of=as_of, lines=lines, totals=totals, recorded_as_of=recorded_as_of)


@dataclass(frozen=True)
class SealState:
    blocks: int
    last_transaction_id: int
    last_block_hash: str | None
    last_sealed_at: datetime | None
    unsealed_transactions: int


def seal_state() -> SealState:
    """Say how far the seal chain reaches and how many transactions wait for it."""
    last_block = SealBlock.objects.order_by("-number").first()
    last_id = last_block.last_transaction_id if last_block else 0
    return SealState(
        blocks=last_block.number if last_block else 0,
        last_transaction_id=last_id,
        last_block_hash=last_block.block_hash if last_block else None,
        last_sealed_at=last_block.sealed_at if last_block else None,
        unsealed_transactions=Transaction.objects.filter(id__gt=last_id).count(),
    )


def accounts_credited_since(
    *, accounts: list[Account], since: datetime, kind_prefixes_excluded: tuple[str, ...] = ()
) -> dict[int, int]:
    """Micros credited to each account since a moment, by account id (credits positive).

    For "what was earned this month": the credits to a payable, leaving out the
    transaction kinds that only move money already earned (a returned payout).
    """
    entries = Entry.objects.filter(account__in=accounts, created_at__gte=since, amount_micros__lt=0)
    for prefix in kind_prefixes_excluded:
        entries = entries.exclude(transaction__kind__startswith=prefix)
    totals = entries.values("account_id").annotate(credited=Sum("amount_micros"))
    return {row["account_id"]: -int(row["credited"]) for row in totals}


@dataclass(frozen=True)
class Movement:
    """What one business object's transactions of one kind moved on an account."""

    kind: str
    reference: str
    amount_micros: int


def account_movements(
    account: Account, *, since: datetime, until: datetime, movements_max: int = 100_000
) -> list[Movement]:
    """Sum the account's entries effective in (since, until] by transaction kind and reference.

    The same window as `account_entries`, in one query: a statement's lines per sale,
    per royalty run, per payout. Signed micros, debit positive.
    """
    rows = (
        Entry.objects.filter(account=account, effective_at__gt=since, effective_at__lte=until)
        .values("transaction__kind", "transaction__reference")
        .annotate(total=Sum("amount_micros"))
        .order_by("transaction__kind", "transaction__reference")
    )
    found = [
        Movement(row["transaction__kind"], row["transaction__reference"], int(row["total"]))
        for row in rows[: movements_max + 1]
    ]
    assert len(found) <= movements_max, "more business objects in one window than a statement holds"
    return found
