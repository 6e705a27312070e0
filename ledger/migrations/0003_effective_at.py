"""Business time: `effective_at` on transactions and, copied, on their entries.

Rows that exist already happened when they were posted, so their business time is
their `created_at`. Setting it is an UPDATE, which the append-only triggers refuse;
this migration (run by the tables' owner, inside its own database transaction, with
the tables locked by the ALTER) disables exactly those two triggers for the one
UPDATE and enables them again. Sealed blocks stay valid: a row whose effective_at
equals its created_at hashes as it did before the column existed (ledger/sealing.py).

On PostgreSQL it also
- defaults a missing effective_at to the posting time in the stamping trigger (for
  clients that write raw SQL; the services always send one);
- makes the entry trigger refuse entries whose effective_at is not their
  transaction's, as it does for created_at;
- rebuilds the business-time entry index with INCLUDE (amount_micros, created_at),
  so balances as of a business moment are index-only scans.
"""

import importlib

import django.utils.timezone
from django.db import migrations, models
from django.db.models import F

_rules = importlib.import_module("ledger.migrations.0002_database_rules")
PostgreSQLOnlyRunSQL = _rules.PostgreSQLOnlyRunSQL

_APPEND_ONLY_TRIGGERS = {
    "ledger_transaction": "ledger_transaction_append_only",
    "ledger_entry": "ledger_entry_append_only",
}


def _function_of(sql: str, name: str) -> str:
    """Cut one CREATE FUNCTION out of migration 0002's SQL, as CREATE OR REPLACE."""
    start = sql.index(f"CREATE FUNCTION {name}(")
    body_start = sql.index("$$", start) + 2
    end = sql.index("$$;", body_start) + 3
    return "CREATE OR REPLACE" + sql[start + len("CREATE") : end]


def _triggers(schema_editor, action: str) -> None:
    with schema_editor.connection.cursor() as cursor:
        for table, trigger in _APPEND_ONLY_TRIGGERS.items():
            cursor.execute(f"ALTER TABLE {table} {action} TRIGGER {trigger}")


def business_time_backfill(apps, schema_editor) -> None:
    """Give every existing row its posting time as its business time."""
    on_postgresql = schema_editor.connection.vendor == "postgresql"
    if on_postgresql:
        _triggers(schema_editor, "DISABLE")
    for name in ("Transaction", "Entry"):
        apps.get_model("ledger", name).objects.update(effective_at=F("created_at"))
    if on_postgresql:
        _triggers(schema_editor, "ENABLE")


STAMP_SQL = f"""
CREATE OR REPLACE FUNCTION ledger_transaction_stamp() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Register, then allocate, then read the clock: the order the horizon relies on.
    PERFORM pg_advisory_xact_lock_shared({_rules.POSTING_LOCK_KEY});
    NEW.id := nextval('ledger_transaction_id_seq');
    NEW.created_at := clock_timestamp();
    NEW.xid := pg_current_xact_id();
    -- Business time is the poster's to state; without one it is the posting time.
    NEW.effective_at := coalesce(NEW.effective_at, NEW.created_at);
    RETURN NEW;
END
$$;
"""

ENTRY_CHECK_SQL = """
CREATE OR REPLACE FUNCTION ledger_entry_check_inserted() RETURNS trigger
LANGUAGE plpgsql SET enable_seqscan = off SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    checked_through bigint :=
        coalesce(nullif(current_setting('ledger.checked_through', true), ''), '0')::bigint;
    bad record;
    rule text;
    detail text;
BEGIN
    -- Checked per distinct account and per distinct transaction of the statement (a
    -- bulk insert has thousands of entries but few accounts). LATERAL ... LIMIT 1 pins
    -- each lookup to a primary-key probe: the planner knows nothing about a transition
    -- table and would otherwise hash-join whole tables.
    SELECT inserted.account_id, inserted.currency,
           account.id AS account_found, account.currency AS account_currency
      INTO bad
      FROM (SELECT DISTINCT account_id, currency FROM ledger_entry_inserted) AS inserted
      LEFT JOIN LATERAL (SELECT id, currency FROM ledger_account
                          WHERE id = inserted.account_id LIMIT 1) AS account ON true
     WHERE account.id IS NULL OR account.currency <> inserted.currency
     LIMIT 1;
    IF FOUND THEN
        IF bad.account_found IS NULL THEN
            rule := 'ledger_entry_account_exists';
            detail := format('account %s does not exist', bad.account_id);
        ELSE
            rule := 'ledger_entry_currency';
            detail := format('entry in %s on account %s, which is in %s',
                             bad.currency, bad.account_id, bad.account_currency);
        END IF;
    ELSE
        SELECT inserted.transaction_id, parent.id AS transaction_found, parent.xid,
               parent.created_at, parent.effective_at,
               parent.created_at = inserted.first_at
                   AND parent.created_at = inserted.last_at AS created_at_matches
          INTO bad
          FROM (SELECT transaction_id, min(created_at) AS first_at, max(created_at) AS last_at,
                       min(effective_at) AS first_effective_at,
                       max(effective_at) AS last_effective_at
                  FROM ledger_entry_inserted GROUP BY transaction_id) AS inserted
          LEFT JOIN LATERAL (SELECT id, xid, created_at, effective_at FROM ledger_transaction
                              WHERE id = inserted.transaction_id LIMIT 1) AS parent ON true
         WHERE parent.id IS NULL
            OR parent.id <= checked_through
            OR parent.xid <> pg_current_xact_id()
            OR parent.created_at <> inserted.first_at
            OR parent.created_at <> inserted.last_at
            OR parent.effective_at <> inserted.first_effective_at
            OR parent.effective_at <> inserted.last_effective_at
         LIMIT 1;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
        IF bad.transaction_found IS NULL THEN
            rule := 'ledger_entry_transaction_exists';
            detail := format('transaction %s does not exist', bad.transaction_id);
        ELSIF bad.xid <> pg_current_xact_id() THEN
            rule := 'ledger_entry_same_transaction';
            detail := format('transaction %s was written by another database transaction',
                             bad.transaction_id);
        ELSIF bad.transaction_found <= checked_through THEN
            rule := 'ledger_entry_transaction_checked';
            detail := format('transaction %s was already checked for balance',
                             bad.transaction_id);
        ELSIF NOT bad.created_at_matches THEN
            rule := 'ledger_entry_created_at';
            detail := format('entries of transaction %s must carry its created_at %s',
                             bad.transaction_id, bad.created_at);
        ELSE
            rule := 'ledger_entry_effective_at';
            detail := format('entries of transaction %s must carry its effective_at %s',
                             bad.transaction_id, bad.effective_at);
        END IF;
    END IF;
    RAISE EXCEPTION USING
        ERRCODE = CASE WHEN rule LIKE '%_exists' THEN 'foreign_key_violation'
                       ELSE 'check_violation' END,
        CONSTRAINT = rule,
        MESSAGE = 'ledger: ' || detail;
END
$$;
"""

INDEX_SQL = """
DROP INDEX ledger_entry_account_effective;
CREATE INDEX ledger_entry_account_effective
    ON ledger_entry (account_id, effective_at, id) INCLUDE (amount_micros, created_at);
"""
INDEX_REVERSE_SQL = """
DROP INDEX ledger_entry_account_effective;
CREATE INDEX ledger_entry_account_effective ON ledger_entry (account_id, effective_at, id);
"""

FORWARD_SQL = STAMP_SQL + ENTRY_CHECK_SQL + INDEX_SQL
REVERSE_SQL = (
    INDEX_REVERSE_SQL
    + _function_of(_rules.FORWARD_SQL, "ledger_entry_check_inserted")
    + _function_of(_rules.FORWARD_SQL, "ledger_transaction_stamp")
)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_database_rules")]

    operations = [
        migrations.AddField(
            model_name="transaction",
            name="effective_at",
            field=models.DateTimeField(null=True, editable=False),
        ),
        migrations.AddField(
            model_name="entry",
            name="effective_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(business_time_backfill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="transaction",
            name="effective_at",
            field=models.DateTimeField(
                db_index=True,
                default=django.utils.timezone.now,
                editable=False,
                help_text="Business time: when the event happened in the books' terms (a "
                "sale at the license's start). Given by the poster, posting time by "
                "default; never changed.",
            ),
        ),
        migrations.AlterField(
            model_name="entry",
            name="effective_at",
            field=models.DateTimeField(
                help_text="Its transaction's effective_at, copied so that a balance as of a "
                "business moment is read from one index, without a join."
            ),
        ),
        migrations.AddIndex(
            model_name="entry",
            index=models.Index(
                fields=["account", "effective_at", "id"], name="ledger_entry_account_effective"
            ),
        ),
        PostgreSQLOnlyRunSQL(sql=FORWARD_SQL, reverse_sql=REVERSE_SQL),
    ]
