"""From a posting request to checked rows: the limits, validation, the idempotency digest.

The services in `ledger.services` are the public face; this module and
`ledger.inserts` (the statements that write the rows) hold what they share. Every
rule PostgreSQL enforces is checked here first, so a refused posting writes nothing
and names its field.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from django.utils import timezone

from ledger.errors import LedgerError, LedgerErrorCode
from ledger.models import Account

# A guard against a runaway caller, not a business rule: a sale has a leg per account
# it credits (every co-owner of every work, summed per creator) and a royalty run one
# per creator it pays, so 100 refused a single work's 100 co-owners. 10,000 bounds one
# posting's rows the way BATCH_SIZE_MAX bounds a batch's postings.
LEGS_MAX = 10_000
BATCH_SIZE_MAX = 10_000
AMOUNT_MICROS_MAX = 10**17  # 100 billion major units: far beyond any real leg
IDEMPOTENCY_KEY_LENGTH_MAX = 255
KIND_LENGTH_MAX = 64
REFERENCE_LENGTH_MAX = 255
MEMO_LENGTH_MAX = 500


class Leg(NamedTuple):
    """One side of a posting: a signed amount (debit > 0 > credit) on an account.

    `currency`, when given, states what the caller believes the amount is in; a leg
    on an account of another currency is then refused instead of booked.
    """

    account: Account
    amount_micros: int
    currency: str | None = None


@dataclass(frozen=True)
class Posting:
    """A request to post one transaction, for `transactions_post_many`."""

    idempotency_key: str
    kind: str
    legs: Sequence[Leg]
    reference: str = ""
    memo: str = ""
    effective_at: datetime | None = None  # business time; the posting time when None


class LegRow(NamedTuple):
    account_id: int
    amount_micros: int
    currency: str


class PreparedPosting(NamedTuple):
    """A validated posting, reduced to the values that are written.

    A NamedTuple rather than a frozen dataclass: bulk posting builds thousands, and
    a frozen dataclass's __init__ costs several times more.
    """

    idempotency_key: str
    kind: str
    reference: str
    memo: str
    reverses_id: int | None
    legs: tuple[LegRow, ...]
    content_digest: str
    effective_at: datetime  # aware, in UTC


def _field_error(name: str, length_max: int, *, required: bool) -> LedgerError:
    needed = "a non-empty string" if required else "a string"
    code = (
        LedgerErrorCode.IDEMPOTENCY_KEY_INVALID
        if name == "idempotency_key"
        else LedgerErrorCode.FIELD_INVALID
    )
    return LedgerError(
        code, f"{name} must be {needed} of at most {length_max} characters.", param=name
    )


def _check_text(value: object, name: str, length_max: int, *, required: bool) -> str:
    if not isinstance(value, str) or len(value) > length_max or (required and not value):
        raise _field_error(name, length_max, required=required)
    return value


def _leg_error(code: LedgerErrorCode, message: str, position: int) -> LedgerError:
    return LedgerError(code, message, param=f"legs[{position}]")


def _leg_row(leg: object, position: int) -> LegRow:
    # Written for speed (it runs for every leg of every bulk posting): error details
    # are only built on the way out.
    try:
        account, amount = leg[0], leg[1]
        claimed_currency = leg[2] if len(leg) > 2 else None
    except (TypeError, IndexError, KeyError):
        raise _leg_error(
            LedgerErrorCode.FIELD_INVALID, "A leg is Leg(account, amount_micros).", position
        ) from None
    if not isinstance(account, Account) or account.id is None:
        raise _leg_error(
            LedgerErrorCode.ACCOUNT_NOT_FOUND, "A leg needs a saved Account.", position
        )
    if amount.__class__ is not int:  # not bool, not float, not Decimal
        raise _leg_error(LedgerErrorCode.AMOUNT_INVALID, "Amounts are integer micros.", position)
    if amount == 0 or not -AMOUNT_MICROS_MAX <= amount <= AMOUNT_MICROS_MAX:
        raise _leg_error(
            LedgerErrorCode.AMOUNT_INVALID,
            f"A leg's amount must be non-zero and at most {AMOUNT_MICROS_MAX} micros in size.",
            position,
        )
    currency = account.currency
    if claimed_currency is not None and str(claimed_currency).lower() != currency:
        raise _leg_error(
            LedgerErrorCode.CURRENCY_MISMATCH,
            f"Leg in {claimed_currency} on account {account.code}, which is in {currency}.",
            position,
        )
    return LegRow(account.id, amount, currency)


def _check_balanced(legs: Sequence[LegRow]) -> None:
    totals: dict[str, int] = {}
    for leg in legs:
        totals[leg.currency] = totals.get(leg.currency, 0) + leg.amount_micros
    if not any(totals.values()):
        return
    imbalance = [
        {"currency": currency, "sum_micros": total}
        for currency, total in sorted(totals.items())
        if total != 0
    ]
    if imbalance:
        described = ", ".join(f"{item['sum_micros']:+d} {item['currency']}" for item in imbalance)
        raise LedgerError(
            LedgerErrorCode.UNBALANCED,
            f"The legs must sum to zero in each currency; they are off by {described} micros.",
            param="legs",
            details=imbalance,
        )


def effective_at_check(value: object, *, now: datetime) -> datetime:
    """Return the business time to stamp: `now` for None, an aware datetime in UTC.

    A naive datetime is refused rather than guessed at: read in another time zone it
    would move a sale across a period's end.
    """
    if value is None:
        return now
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise LedgerError(
            LedgerErrorCode.EFFECTIVE_AT_INVALID,
            "effective_at must be a timezone-aware datetime.",
            param="effective_at",
        )
    return value.astimezone(UTC)


def content_digest(
    *, kind: str, reference: str, memo: str, reverses_id: int | None, legs: Iterable[LegRow]
) -> str:
    """Hash what a posting asks for; leg order does not matter, everything else does.

    Texts are length-prefixed, so no choice of characters can make two different
    postings encode alike.
    """
    header = f"{len(kind)}:{kind}|{len(reference)}:{reference}|{len(memo)}:{memo}|{reverses_id}"
    legs_text = "|".join([f"{account}:{amount}" for account, amount, _ in sorted(legs)])
    return hashlib.sha256(f"{header}|{legs_text}".encode()).hexdigest()


def posting_prepare(
    posting: Posting, *, reverses_id: int | None = None, now: datetime | None = None
) -> PreparedPosting:
    """Validate a posting in Python (the same rules PostgreSQL enforces) and reduce it.

    `now` is the business time of a posting that names none (a batch passes one clock
    reading for all its postings). The business time is not part of the content
    digest: a retry with the same key returns the first posting, whatever time it names.
    """
    key = _check_text(
        posting.idempotency_key, "idempotency_key", IDEMPOTENCY_KEY_LENGTH_MAX, required=True
    )
    kind = _check_text(posting.kind, "kind", KIND_LENGTH_MAX, required=True)
    reference = _check_text(posting.reference, "reference", REFERENCE_LENGTH_MAX, required=False)
    memo = _check_text(posting.memo, "memo", MEMO_LENGTH_MAX, required=False)
    legs_in = posting.legs
    if len(legs_in) < 2:
        raise LedgerError(
            LedgerErrorCode.TOO_FEW_LEGS, "A transaction needs at least two legs.", param="legs"
        )
    if len(legs_in) > LEGS_MAX:
        raise LedgerError(
            LedgerErrorCode.TOO_MANY_LEGS, f"At most {LEGS_MAX} legs per transaction.", param="legs"
        )
    effective_at = effective_at_check(
        posting.effective_at, now=timezone.now() if now is None else now
    )
    legs = tuple([_leg_row(leg, position) for position, leg in enumerate(legs_in)])
    _check_balanced(legs)
    digest = content_digest(
        kind=kind, reference=reference, memo=memo, reverses_id=reverses_id, legs=legs
    )
    return PreparedPosting(key, kind, reference, memo, reverses_id, legs, digest, effective_at)


def posting_prepare_indexed(posting: Posting, index: int, *, now: datetime) -> PreparedPosting:
    """Prepare the posting at `index` of a batch; an error's details name the index."""
    try:
        return posting_prepare(posting, now=now)
    except LedgerError as error:
        error.details = [{"index": index, "param": error.param, "code": error.code}]
        raise


def first_of_its_key(seen: dict[str, PreparedPosting], posting: PreparedPosting) -> bool:
    """Say whether a batch meets this key for the first time; refuse it with other content."""
    first = seen.setdefault(posting.idempotency_key, posting)
    if first is posting:
        return True
    if first.content_digest != posting.content_digest:
        raise LedgerError(
            LedgerErrorCode.IDEMPOTENCY_KEY_CONFLICT,
            f"Idempotency key {posting.idempotency_key!r} appears twice with other content.",
            param="idempotency_key",
        )
    return False


def accounts_confirm(prepared: Iterable[PreparedPosting]) -> None:
    """Check against the database that every account exists in the leg's currency.

    PostgreSQL's entry trigger does this on every insert; elsewhere this is the check.
    """
    wanted = {leg.account_id: leg.currency for posting in prepared for leg in posting.legs}
    found = dict(Account.objects.filter(pk__in=wanted).values_list("pk", "currency"))
    for account_id, currency in wanted.items():
        if account_id not in found:
            raise LedgerError(
                LedgerErrorCode.ACCOUNT_NOT_FOUND, f"Account {account_id} does not exist."
            )
        if found[account_id] != currency:
            raise LedgerError(
                LedgerErrorCode.CURRENCY_MISMATCH,
                f"Account {account_id} is in {found[account_id]}, not {currency}.",
            )
