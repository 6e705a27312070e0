"""The books: accounts, transactions, entries, and what keeps them honest and fast.

Design overview (the long form, with the reasons, is `docs/ledger.md`):

- `Account` holds money of one currency; its `code` names it for good
  (`creator:crt_1:payable:eur`). Amounts are signed integer micros, debit positive.
- `Transaction` groups `Entry` rows that sum to zero per currency. Both are
  append-only: a mistake is corrected by a reversing transaction, never by an edit.
- On PostgreSQL the database enforces the same rules the services check (migration
  `0002_database_rules`): a deferred constraint trigger rejects an unbalanced
  transaction at COMMIT, triggers reject UPDATE and DELETE, an entry must carry its
  account's currency and belong to a transaction written by the same database
  transaction, and the database, not the client, stamps `Transaction.created_at`.
- Balances never live in a row that postings update. A background job writes
  `BalanceCheckpoint`s (the sum of an account's entries up to a settled time); a
  balance is the last checkpoint before the time asked plus the few entries after it,
  read from a covering index. So a hot platform account costs no lock to post to.
- Two clocks: `created_at` is when a transaction was recorded (stamped at insert,
  never chosen by the client), `effective_at` when it happened in business
  terms (a sale on the license's first day, a royalty run at its period's end). Both
  are copied onto every entry, so balances can be read as of either without a join.
- `SealBlock`s chain hashes of transaction ranges in id order; `ledger_verify`
  recomputes them to prove nothing was changed behind the triggers' back.

Entries point at accounts and transactions without database foreign keys on purpose:
a foreign key makes every insert take a KEY SHARE lock on the referenced account row,
which turns a busy account into a multixact hot spot. Existence is checked instead by
the entry trigger (PostgreSQL) and by the services, and neither accounts nor
transactions can ever be deleted.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class AccountKind(models.TextChoices):
    ASSET = "asset", "Asset"
    LIABILITY = "liability", "Liability"
    REVENUE = "revenue", "Revenue"
    EXPENSE = "expense", "Expense"
    EQUITY = "equity", "Equity"


# Kinds whose natural balance is a debit (positive micros); the others are credits.
DEBIT_NORMAL_KINDS = frozenset({AccountKind.ASSET, AccountKind.EXPENSE})


class Account(models.Model):
    """A place money sits, in one currency. Never deleted; code and currency never change."""

    code = models.CharField(max_length=200)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=AccountKind.choices)
    currency = models.CharField(max_length=3, help_text="ISO 4217, lower case.")
    owner_type = models.CharField(max_length=40, blank=True)
    owner_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["code"]
        # Constraints and indexes are declared here rather than with unique=/db_index=
        # so PostgreSQL gets no extra varchar_pattern_ops index to maintain.
        constraints = [models.UniqueConstraint(fields=["code"], name="ledger_account_code_unique")]
        indexes = [models.Index(fields=["owner_type", "owner_id"], name="ledger_account_owner")]

    def __str__(self) -> str:
        return self.code

    @property
    def normal_sign(self) -> int:
        """+1 when this kind of account normally holds a debit balance, -1 for a credit."""
        return 1 if self.kind in DEBIT_NORMAL_KINDS else -1


class Transaction(models.Model):
    """One business event, posted once per idempotency key, never changed afterwards."""

    idempotency_key = models.CharField(max_length=255)
    content_digest = models.CharField(
        max_length=64, help_text="SHA-256 of what was asked to be posted; a replay must match."
    )
    kind = models.CharField(max_length=64)
    reference = models.CharField(
        max_length=255, blank=True, help_text='The business object, e.g. "license:lic_…".'
    )
    memo = models.CharField(max_length=500, blank=True)
    reverses = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
        help_text="The transaction this one reverses; a transaction is reversed at most once.",
    )
    created_at = models.DateTimeField(
        default=timezone.now,
        editable=False,
        help_text="Posting time; on PostgreSQL stamped by the database at insert.",
    )
    effective_at = models.DateTimeField(
        default=timezone.now,
        db_index=True,
        editable=False,
        help_text="Business time: when the event happened in the books' terms (a sale at the "
        "license's start). Given by the poster, posting time by default; never changed.",
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            # Posting relies on INSERT ... ON CONFLICT (idempotency_key) DO NOTHING.
            models.UniqueConstraint(
                fields=["idempotency_key"], name="ledger_transaction_key_unique"
            )
        ]
        indexes = [models.Index(fields=["reference"], name="ledger_transaction_reference")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.reference}".rstrip()


class Entry(models.Model):
    """One leg of a transaction: a signed amount on one account (debit > 0 > credit)."""

    transaction = models.ForeignKey(
        Transaction, on_delete=models.PROTECT, related_name="entries", db_constraint=False
    )
    account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        related_name="entries",
        db_constraint=False,
        # The covering index below starts with account_id; a second index would only cost.
        db_index=False,
    )
    amount_micros = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(
        help_text="Its transaction's created_at, copied for the index."
    )
    effective_at = models.DateTimeField(
        help_text="Its transaction's effective_at, copied so that a balance as of a business "
        "moment is read from one index, without a join."
    )

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "entries"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(amount_micros=0), name="ledger_entry_nonzero"
            )
        ]
        indexes = [
            # Balance reads sum amounts of one account over a time range; entry listings
            # page through it in order. On PostgreSQL migration 0002 rebuilds it with
            # INCLUDE (amount_micros) so those sums are index-only scans (declaring the
            # include here would make SQLite's system check warn on every command).
            models.Index(fields=["account", "created_at", "id"], name="ledger_entry_account_time"),
            # The same by business time, for balances as of a business moment and entry
            # listings of a period; on PostgreSQL it includes amount_micros and
            # created_at (migration 0003), so those reads are index-only too.
            models.Index(
                fields=["account", "effective_at", "id"], name="ledger_entry_account_effective"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount_micros:+d} {self.currency} on account {self.account_id}"


class BalanceCheckpoint(models.Model):
    """An account's balance and entry count including every entry up to `as_of`.

    Written only for settled times (no transaction stamped at or before `as_of` can
    still commit), so it never has to be corrected.
    """

    account = models.ForeignKey(
        # The unique (account, as_of) index serves every lookup by account.
        Account,
        on_delete=models.PROTECT,
        related_name="checkpoints",
        db_index=False,
    )
    as_of = models.DateTimeField()
    balance_micros = models.BigIntegerField()
    entry_count = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "as_of"], name="ledger_checkpoint_once")
        ]

    def __str__(self) -> str:
        return f"{self.account_id} @ {self.as_of.isoformat()}: {self.balance_micros}"


class CheckpointRun(models.Model):
    """One pass of the checkpoint job: the settled horizon it reached."""

    horizon_at = models.DateTimeField(help_text="Every transaction stamped up to here is final.")
    last_transaction_id = models.BigIntegerField(
        help_text="Every transaction with an id up to here was final when the run started."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"checkpoint run {self.pk} up to {self.horizon_at.isoformat()}"


class SealBlock(models.Model):
    """A hash-chained seal over the transactions with ids in (after, last]."""

    number = models.PositiveBigIntegerField(unique=True)
    after_transaction_id = models.BigIntegerField()
    last_transaction_id = models.BigIntegerField(unique=True)
    transaction_count = models.PositiveIntegerField()
    entry_count = models.PositiveIntegerField()
    content_hash = models.CharField(max_length=64)
    previous_hash = models.CharField(max_length=64)
    block_hash = models.CharField(max_length=64, unique=True)
    sealed_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return (
            f"block {self.number} (transactions {self.after_transaction_id + 1}"
            f"..{self.last_transaction_id})"
        )
