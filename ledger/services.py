"""Every write to the books: opening accounts, posting, reversing, sealing.

Other apps move money only through these functions. Each runs in one database
transaction (a savepoint when the caller already has one), takes keyword-only
arguments, checks the ledger's rules in Python before writing, and is idempotent:
a retry with the same idempotency key returns what the first call wrote.

Signs: an amount is debit-positive. Paying a creator 8 EUR out of a 10 EUR sale is
`Leg(cash, 10_000_000), Leg(creator_payable, -8_000_000), Leg(commission, -2_000_000)`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

from django.db import IntegrityError, connection
from django.db import transaction as db_transaction
from django.utils import timezone

from ledger import account_cache, bulk, checkpoints, sealing
from ledger.errors import LedgerError, LedgerErrorCode
from ledger.inserts import integrity_error_translate, rows_insert
from ledger.models import Account, AccountKind, Transaction
from ledger.money import currency_validate
from ledger.posting import (
    BATCH_SIZE_MAX,
    Leg,
    Posting,
    PreparedPosting,
    accounts_confirm,
    first_of_its_key,
    posting_prepare,
    posting_prepare_indexed,
)

__all__ = [
    "AccountRef",
    "Leg",
    "Posting",
    "SealSummary",
    "accounts_lock",
    "accounts_open",
    "ledger_seal",
    "owner_accounts_open",
    "platform_account",
    "transaction_post",
    "transaction_reverse",
    "transactions_post_many",
]

PLATFORM_OWNER_TYPE = "platform"
ACCOUNTS_PER_OWNER_MAX = 50
_CODE_PART_LENGTH_MAX = 60


def _code_part(value: object, name: str) -> str:
    # ":" separates the parts of an account code; letting it in would make two
    # different owners' codes collide.
    if (
        not isinstance(value, str)
        or not value
        or ":" in value
        or len(value) > _CODE_PART_LENGTH_MAX
        or value != value.strip()
    ):
        raise LedgerError(
            LedgerErrorCode.ACCOUNT_NAME_INVALID,
            f"{name} must be 1 to {_CODE_PART_LENGTH_MAX} characters without ':' or "
            "surrounding spaces.",
            param=name,
        )
    return value


def _account_kind(kind: object) -> str:
    if kind not in AccountKind.values:
        raise LedgerError(
            LedgerErrorCode.ACCOUNT_KIND_INVALID,
            f"Account kind must be one of {', '.join(AccountKind.values)}.",
            param="kind",
        )
    return str(kind)


@dataclass(frozen=True)
class AccountRef:
    """Names one account to open or find: the platform's own, or an owner's.

    Its code is `platform:{name}:{currency}` for the platform and
    `{owner_type}:{owner_id}:{name}:{currency}` for an owner.
    """

    owner_type: str
    owner_id: str
    name: str
    kind: str
    currency: str

    @classmethod
    def platform(cls, *, name: str, kind: str, currency: str) -> AccountRef:
        return cls(PLATFORM_OWNER_TYPE, "", name, kind, currency)

    @classmethod
    def owner(
        cls, *, owner_type: str, owner_id: str, name: str, kind: str, currency: str
    ) -> AccountRef:
        return cls(owner_type, owner_id, name, kind, currency)

    def row(self) -> Account:
        """The account this reference would open, checked, not yet saved."""
        name = _code_part(self.name, "name")
        currency = currency_validate(self.currency)
        if self.owner_type == PLATFORM_OWNER_TYPE and not self.owner_id:
            code, label = f"{PLATFORM_OWNER_TYPE}:{name}:{currency}", f"platform {name}"
        else:
            owner_type = _code_part(self.owner_type, "owner_type")
            owner_id = _code_part(self.owner_id, "owner_id")
            code = f"{owner_type}:{owner_id}:{name}:{currency}"
            label = f"{owner_type} {owner_id} {name}"
        return Account(
            code=code,
            name=f"{label} ({currency})",
            kind=_account_kind(self.kind),
            currency=currency,
            owner_type=self.owner_type,
            owner_id=self.owner_id,
        )


def accounts_open(*, refs: Sequence[AccountRef]) -> dict[AccountRef, Account]:
    """Open (or find) accounts; return them by reference.

    Accounts are only ever added, so the common case, every account already open, is
    no statement at all once this process has seen them committed (`ledger.account_cache`),
    else one SELECT; only new codes are inserted. Idempotent: an account that exists
    with another kind or currency is an `account_conflict`.
    """
    cached = account_cache.accounts_cached(refs)
    rest = [ref for ref in refs if ref not in cached]
    if not rest:
        return cached
    found = _accounts_open_uncached(rest)
    account_cache.accounts_remember(found)
    return {ref: cached[ref] if ref in cached else found[ref] for ref in refs}


def _accounts_open_uncached(refs: Sequence[AccountRef]) -> dict[AccountRef, Account]:
    wanted = {ref: ref.row() for ref in refs}
    codes = sorted({account.code for account in wanted.values()})
    found = _accounts_by_code(codes)
    missing = [account for account in wanted.values() if account.code not in found]
    if missing:
        with db_transaction.atomic():
            # ON CONFLICT DO NOTHING: two concurrent openers both succeed, neither fails.
            Account.objects.bulk_create(missing, ignore_conflicts=True)
            found.update(
                Account.objects.in_bulk([account.code for account in missing], field_name="code")
            )
    for account in wanted.values():
        existing = found[account.code]
        if (existing.kind, existing.currency) != (account.kind, account.currency):
            raise LedgerError(
                LedgerErrorCode.ACCOUNT_CONFLICT,
                f"Account {account.code} exists as a {existing.kind} account in "
                f"{existing.currency}, not a {account.kind} account in {account.currency}.",
                param="accounts",
            )
    return {ref: found[account.code] for ref, account in wanted.items()}


def _accounts_by_code(codes: Sequence[str]) -> dict[str, Account]:
    """The accounts that exist among these codes, by code."""
    return Account.objects.in_bulk(codes, field_name="code")


def accounts_lock(*, accounts: Sequence[Account]) -> None:
    """Hold these accounts' row locks until the caller's transaction ends, in id order.

    Postings take no account lock (entries have no foreign key, on purpose), so two
    postings to one account never wait for each other. A caller that decides on a
    balance and then posts against it (a payout taking a creator's payable) and a
    caller that may lower that balance (a run debiting the payable) take this lock
    first, so the second of them sees what the first posted. `no_key`: a rename of
    the account (the only change accounts allow) is not what is ordered here.
    """
    assert connection.in_atomic_block, "lock inside a transaction"
    ids = sorted({account.pk for account in accounts})
    if ids:
        list(
            Account.objects.select_for_update(no_key=True)
            .filter(pk__in=ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )


def owner_accounts_open(
    *, owner_type: str, owner_id: str, currency: str, accounts: Mapping[str, str]
) -> dict[str, Account]:
    """Open (or find) an owner's accounts in one currency; return them by name.

    `accounts` maps a name to a kind, e.g. `{"payable": "liability"}`; the account's
    code is `f"{owner_type}:{owner_id}:{name}:{currency}"`. Idempotent: existing
    accounts are returned as they are, and one opened with another kind is an
    `account_conflict`.
    """
    if not accounts or len(accounts) > ACCOUNTS_PER_OWNER_MAX:
        raise LedgerError(
            LedgerErrorCode.FIELD_INVALID,
            f"Open between 1 and {ACCOUNTS_PER_OWNER_MAX} accounts at once.",
            param="accounts",
        )
    # An empty owner id would name the platform's own accounts.
    _code_part(owner_id, "owner_id")
    refs = {
        name: AccountRef.owner(
            owner_type=owner_type, owner_id=owner_id, name=name, kind=kind, currency=currency
        )
        for name, kind in accounts.items()
    }
    opened = accounts_open(refs=list(refs.values()))
    return {name: opened[ref] for name, ref in refs.items()}


def platform_account(*, name: str, kind: str, currency: str) -> Account:
    """Open (or find) one of the platform's own accounts, coded `platform:{name}:{currency}`.

    For commission revenue, Stripe cash, receivables, pool liabilities and the like.
    """
    ref = AccountRef.platform(name=name, kind=kind, currency=currency)
    return accounts_open(refs=[ref])[ref]


def _replay_or_conflict(prepared: Sequence[PreparedPosting], skipped: set[str]) -> dict:
    """Return the earlier transactions of replayed keys; refuse a key reused otherwise."""
    earlier = Transaction.objects.in_bulk(skipped, field_name="idempotency_key")
    for posting in prepared:
        if posting.idempotency_key not in skipped:
            continue
        previous = earlier[posting.idempotency_key]
        if previous.content_digest != posting.content_digest:
            raise LedgerError(
                LedgerErrorCode.IDEMPOTENCY_KEY_CONFLICT,
                f"Idempotency key {posting.idempotency_key!r} was used for transaction "
                f"{previous.pk} with other content; use a new key.",
                param="idempotency_key",
            )
    return earlier


def _post(prepared: Sequence[PreparedPosting]) -> list[Transaction]:
    """Write the postings (skipping replays) in one transaction; return them in order."""
    unique: dict[str, PreparedPosting] = {}
    for posting in prepared:
        first_of_its_key(unique, posting)
    if connection.vendor != "postgresql":
        accounts_confirm(unique.values())
    try:
        with db_transaction.atomic():
            by_key: dict[str, Transaction] = rows_insert(list(unique.values()))
            skipped = set(unique) - set(by_key)
            if skipped:
                by_key.update(_replay_or_conflict(list(unique.values()), skipped))
    except IntegrityError as error:
        _raise_translated(error)
    return [by_key[posting.idempotency_key] for posting in prepared]


def _raise_translated(error: IntegrityError) -> NoReturn:
    translated = integrity_error_translate(error)
    if translated is None:
        raise error
    raise translated from error


def _post_by_copy(postings: Sequence[Posting]) -> list[Transaction] | None:
    """Post a large batch of new keys with COPY; None if some key was posted before."""
    try:
        with db_transaction.atomic():
            return bulk.postings_copy(postings)
    except IntegrityError as error:
        diagnostics = getattr(error.__cause__, "diag", None)
        if getattr(diagnostics, "constraint_name", None) == "ledger_transaction_key_unique":
            return None  # replays: the INSERT statement sorts them out
        _raise_translated(error)


def transaction_post(
    *,
    idempotency_key: str,
    kind: str,
    legs: Sequence[Leg],
    reference: str = "",
    memo: str = "",
    effective_at: datetime | None = None,
) -> Transaction:
    """Post one transaction, or return the one already posted with this key.

    The legs must sum to zero per currency. The same key with the same content
    returns the first transaction; with other content it is `idempotency_key_conflict`.
    `effective_at` is the business time (an aware datetime, `timezone.now()` when
    None; a naive one is `effective_at_invalid`). It is not part of the content: a
    replay returns the first transaction with the business time it was posted with.
    """
    posting = Posting(idempotency_key, kind, legs, reference, memo, effective_at)
    return _post([posting_prepare(posting)])[0]


def transactions_post_many(*, postings: Sequence[Posting]) -> list[Transaction]:
    """Post up to `BATCH_SIZE_MAX` transactions at once, all or nothing, in order.

    Each posting is idempotent on its own key, exactly as `transaction_post`. An
    invalid posting rejects the batch; the error's `details` name its index.
    """
    if len(postings) > BATCH_SIZE_MAX:
        raise LedgerError(
            LedgerErrorCode.BATCH_TOO_LARGE,
            f"At most {BATCH_SIZE_MAX} postings per call; got {len(postings)}.",
            param="postings",
        )
    if connection.vendor == "postgresql" and len(postings) >= bulk.COPY_BATCH_SIZE_MIN:
        copied = _post_by_copy(postings)
        if copied is not None:
            return copied
    now = timezone.now()
    prepared = [
        posting_prepare_indexed(posting, index, now=now) for index, posting in enumerate(postings)
    ]
    return _post(prepared) if prepared else []


def transaction_reverse(
    *,
    transaction: Transaction,
    idempotency_key: str | None = None,
    memo: str = "",
    effective_at: datetime | None = None,
) -> Transaction:
    """Post the mirror image of a transaction; a transaction is reversed at most once.

    Without a key the reversal's key is derived from the original, so retrying is
    safe. Reversing again with another key is `already_reversed`. The reversal is a
    new event, effective now unless `effective_at` says otherwise (pass the
    original's `effective_at` to void it as if it had never happened).
    """
    original = transaction
    if original.pk is None:
        raise LedgerError(
            LedgerErrorCode.TRANSACTION_NOT_FOUND, "Only a posted transaction can be reversed."
        )
    key = idempotency_key or f"reversal:{original.pk}"
    existing = Transaction.objects.filter(reverses=original.pk).first()
    if existing is not None and existing.idempotency_key != key:
        raise LedgerError(
            LedgerErrorCode.ALREADY_REVERSED,
            f"Transaction {original.pk} was already reversed by transaction {existing.pk}.",
        )
    entries = list(original.entries.select_related("account").order_by("id"))
    if not entries:
        raise LedgerError(
            LedgerErrorCode.TRANSACTION_NOT_FOUND, f"Transaction {original.pk} does not exist."
        )
    posting = Posting(
        idempotency_key=key,
        kind="reversal",
        legs=[Leg(entry.account, -entry.amount_micros) for entry in entries],
        reference=original.reference,
        memo=memo or f"Reverses transaction {original.pk}",
        effective_at=effective_at,
    )
    return _post([posting_prepare(posting, reverses_id=original.pk)])[0]


@dataclass(frozen=True)
class SealSummary:
    checkpoints: checkpoints.CheckpointSummary
    blocks: sealing.SealRunSummary

    def __str__(self) -> str:
        return f"{self.checkpoints}; {self.blocks}"


def ledger_seal() -> SealSummary:
    """Write balance checkpoints and seal new transactions into blocks, up to the horizon.

    Run it often (the Celery task does, and `manage.py ledger_seal`); each run is short
    and safe to repeat or to run concurrently with postings.
    """
    return SealSummary(
        checkpoints=checkpoints.balance_checkpoints_write(), blocks=sealing.blocks_seal()
    )
