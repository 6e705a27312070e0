"""The ledger's invariants, enforced by PostgreSQL itself.

The services check every rule in Python first (and are all SQLite has); these
triggers make the same rules hold for any client that reaches the database, and
prove it in tests that bypass the ORM. Each piece, and why it is shaped so, is in
docs/ledger.md ("What PostgreSQL enforces").

1. A BEFORE INSERT trigger gives every transaction row its id, created_at and xid,
   whatever the client sent: it first takes a shared advisory lock (key
   0x4C45444745520001, held to the end of the database transaction), then calls
   nextval, then reads clock_timestamp(). The sealer and the checkpoint job read the
   sequence and then wait for the holders of that lock, so every id at or below what
   they read belongs to a finished transaction (see ledger/horizon.py). Shared locks
   never conflict, so postings never wait on one another.
2. A deferred constraint trigger fails, at COMMIT, a transaction whose entries do not
   sum to zero per currency or that has fewer than two entries. The first event of a
   database transaction checks all the ledger transactions it wrote in one query and
   leaves a watermark (`ledger.checked_through`); the other events return at once.
3. Entries may not be added to a transaction once its balance was checked.
4. A statement-level trigger checks inserted entries as a set: the account exists and
   has the entry's currency, the transaction exists, was written by this same
   database transaction (no entries added later) and has the same created_at.
5. Ledger rows are append-only: UPDATE and DELETE are rejected; an account may only
   be renamed.
6. The entry index by (account, created_at, id) also carries amount_micros, so a
   balance is summed by an index-only scan.

On SQLite these operations do nothing; the services enforce the rules there.
"""

from django.db import migrations

POSTING_LOCK_KEY = 0x4C45444745520001

FORWARD_SQL = f"""
DROP INDEX ledger_entry_account_time;
CREATE INDEX ledger_entry_account_time
    ON ledger_entry (account_id, created_at, id) INCLUDE (amount_micros);

ALTER TABLE ledger_transaction ALTER COLUMN id DROP IDENTITY IF EXISTS;
CREATE SEQUENCE ledger_transaction_id_seq AS bigint OWNED BY ledger_transaction.id;
SELECT setval('ledger_transaction_id_seq', coalesce(max(id), 0) + 1, false) FROM ledger_transaction;
ALTER TABLE ledger_transaction ADD COLUMN xid xid8 NOT NULL DEFAULT '0';

CREATE FUNCTION ledger_transaction_stamp() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Register, then allocate, then read the clock: the order the horizon relies on.
    PERFORM pg_advisory_xact_lock_shared({POSTING_LOCK_KEY});
    NEW.id := nextval('ledger_transaction_id_seq');
    NEW.created_at := clock_timestamp();
    NEW.xid := pg_current_xact_id();
    RETURN NEW;
END
$$;
CREATE TRIGGER ledger_transaction_stamp
    BEFORE INSERT ON ledger_transaction
    FOR EACH ROW EXECUTE FUNCTION ledger_transaction_stamp();

CREATE FUNCTION ledger_transaction_refuse(transaction_id bigint, legs numeric, imbalance text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF legs < 2 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = 'ledger_transaction_balanced',
            MESSAGE = format('ledger: transaction %s has %s entries; at least two are needed',
                             transaction_id, legs);
    END IF;
    RAISE EXCEPTION USING
        ERRCODE = 'check_violation',
        CONSTRAINT = 'ledger_transaction_balanced',
        MESSAGE = format('ledger: transaction %s is unbalanced (micros off per currency: %s)',
                         transaction_id, imbalance);
END
$$;

-- The checks below run at every COMMIT, so their plans are pinned: enable_seqscan = off
-- keeps them on the indexes even when they were planned while the tables were empty
-- (a fresh database fills faster than autovacuum re-analyses it), and
-- force_generic_plan stops the plan cache from re-planning a range query on every
-- call (a custom plan always looks cheaper to it). No check joins two tables: a plan
-- made from stale statistics can make a join quadratic, never a range scan.
CREATE FUNCTION ledger_transaction_check_one(checked_id bigint) RETURNS void
LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
    bad record;
BEGIN
    SELECT coalesce(sum(legs), 0) AS legs,
           string_agg(currency || ' ' || total, ', ' ORDER BY currency)
               FILTER (WHERE total <> 0) AS imbalance
      INTO bad
      FROM (SELECT currency, sum(amount_micros) AS total, count(*) AS legs
              FROM ledger_entry WHERE transaction_id = checked_id
             GROUP BY currency) AS per_currency;
    IF bad.legs < 2 OR bad.imbalance IS NOT NULL THEN
        PERFORM ledger_transaction_refuse(checked_id, bad.legs, bad.imbalance);
    END IF;
END
$$;

CREATE FUNCTION ledger_transactions_check(first_id bigint, last_id bigint) RETURNS void
LANGUAGE plpgsql SET enable_seqscan = off SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    with_entries bigint;
    first_bad bigint;
    visible bigint;
    empty_id bigint;
BEGIN
    -- Every visible transaction in the range must balance, this database
    -- transaction's and others' (committed ones always do) alike, so the entries
    -- alone tell, without a join. A transaction without any entry shows up only as a
    -- difference in counts; both counts come from one statement, hence one snapshot,
    -- or a concurrent commit in the range between two statements would look like one.
    SELECT count(*), min(transaction_id) FILTER (WHERE legs < 2 OR unbalanced),
           (SELECT count(*) FROM ledger_transaction WHERE id BETWEEN first_id AND last_id)
      INTO with_entries, first_bad, visible
      FROM (SELECT transaction_id, sum(legs) AS legs, bool_or(total <> 0) AS unbalanced
              FROM (SELECT transaction_id, currency, sum(amount_micros) AS total,
                           count(*) AS legs
                      FROM ledger_entry WHERE transaction_id BETWEEN first_id AND last_id
                     GROUP BY transaction_id, currency) AS per_currency
             GROUP BY transaction_id) AS per_transaction;
    IF first_bad IS NOT NULL THEN
        PERFORM ledger_transaction_check_one(first_bad);  -- raises, saying what is wrong
    END IF;
    IF visible <> with_entries THEN
        SELECT id INTO empty_id FROM ledger_transaction AS parent
         WHERE id BETWEEN first_id AND last_id
           AND NOT EXISTS (SELECT 1 FROM ledger_entry WHERE transaction_id = parent.id)
         ORDER BY id LIMIT 1;
        IF empty_id IS NULL THEN  -- only if rows were removed behind the triggers' back
            RAISE EXCEPTION USING
                ERRCODE = 'check_violation',
                CONSTRAINT = 'ledger_transaction_balanced',
                MESSAGE = format('ledger: transactions %s to %s have entries of missing rows',
                                 first_id, last_id);
        END IF;
        PERFORM ledger_transaction_refuse(empty_id, 0, NULL);
    END IF;
END
$$;

CREATE FUNCTION ledger_transaction_check_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    last_allocated bigint;
BEGIN
    IF NEW.id <= coalesce(nullif(current_setting('ledger.checked_through', true), ''), '0')::bigint
    THEN
        RETURN NULL;  -- covered by this database transaction's earlier check
    END IF;
    -- Events fire in insertion order and this session allocated its ids in that order,
    -- so NEW.id is the lowest unchecked one and currval the highest.
    last_allocated := currval('ledger_transaction_id_seq');
    IF NEW.id = last_allocated THEN
        PERFORM ledger_transaction_check_one(NEW.id);  -- one posting, the common case
    ELSE
        PERFORM ledger_transactions_check(NEW.id, last_allocated);  -- several, at once
    END IF;
    PERFORM set_config('ledger.checked_through', last_allocated::text, true);
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER ledger_transaction_balanced
    AFTER INSERT ON ledger_transaction
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_transaction_check_balanced();

CREATE FUNCTION ledger_entry_check_inserted() RETURNS trigger
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
               parent.created_at
          INTO bad
          FROM (SELECT transaction_id, min(created_at) AS first_at, max(created_at) AS last_at
                  FROM ledger_entry_inserted GROUP BY transaction_id) AS inserted
          LEFT JOIN LATERAL (SELECT id, xid, created_at FROM ledger_transaction
                              WHERE id = inserted.transaction_id LIMIT 1) AS parent ON true
         WHERE parent.id IS NULL
            OR parent.id <= checked_through
            OR parent.xid <> pg_current_xact_id()
            OR parent.created_at <> inserted.first_at
            OR parent.created_at <> inserted.last_at
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
        ELSE
            rule := 'ledger_entry_created_at';
            detail := format('entries of transaction %s must carry its created_at %s',
                             bad.transaction_id, bad.created_at);
        END IF;
    END IF;
    RAISE EXCEPTION USING
        ERRCODE = CASE WHEN rule LIKE '%_exists' THEN 'foreign_key_violation'
                       ELSE 'check_violation' END,
        CONSTRAINT = rule,
        MESSAGE = 'ledger: ' || detail;
END
$$;
CREATE TRIGGER ledger_entry_check_inserted
    AFTER INSERT ON ledger_entry
    REFERENCING NEW TABLE AS ledger_entry_inserted
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_entry_check_inserted();

CREATE FUNCTION ledger_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'restrict_violation',
        CONSTRAINT = TG_TABLE_NAME || '_append_only',
        MESSAGE = format('ledger: %s on %s is not allowed; the books are append-only '
                         '(post a reversing transaction instead)', TG_OP, TG_TABLE_NAME);
END
$$;
CREATE TRIGGER ledger_transaction_append_only BEFORE UPDATE OR DELETE ON ledger_transaction
    FOR EACH ROW EXECUTE FUNCTION ledger_reject_change();
CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE OR DELETE ON ledger_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_reject_change();
CREATE TRIGGER ledger_sealblock_append_only BEFORE UPDATE OR DELETE ON ledger_sealblock
    FOR EACH ROW EXECUTE FUNCTION ledger_reject_change();
CREATE TRIGGER ledger_balancecheckpoint_append_only BEFORE UPDATE OR DELETE ON ledger_balancecheckpoint
    FOR EACH ROW EXECUTE FUNCTION ledger_reject_change();
CREATE TRIGGER ledger_checkpointrun_append_only BEFORE UPDATE OR DELETE ON ledger_checkpointrun
    FOR EACH ROW EXECUTE FUNCTION ledger_reject_change();

CREATE FUNCTION ledger_account_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
       OR NEW.code IS DISTINCT FROM OLD.code
       OR NEW.kind IS DISTINCT FROM OLD.kind
       OR NEW.currency IS DISTINCT FROM OLD.currency
       OR NEW.owner_type IS DISTINCT FROM OLD.owner_type
       OR NEW.owner_id IS DISTINCT FROM OLD.owner_id THEN
        RAISE EXCEPTION USING
            ERRCODE = 'restrict_violation',
            CONSTRAINT = 'ledger_account_fixed',
            MESSAGE = format('ledger: %s of account %s is not allowed; only its name may change',
                             TG_OP, OLD.id);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER ledger_account_guard BEFORE UPDATE OR DELETE ON ledger_account
    FOR EACH ROW EXECUTE FUNCTION ledger_account_guard();
"""

REVERSE_SQL = """
DROP INDEX ledger_entry_account_time;
CREATE INDEX ledger_entry_account_time ON ledger_entry (account_id, created_at, id);
DROP TRIGGER ledger_account_guard ON ledger_account;
DROP FUNCTION ledger_account_guard();
DROP TRIGGER ledger_checkpointrun_append_only ON ledger_checkpointrun;
DROP TRIGGER ledger_balancecheckpoint_append_only ON ledger_balancecheckpoint;
DROP TRIGGER ledger_sealblock_append_only ON ledger_sealblock;
DROP TRIGGER ledger_entry_append_only ON ledger_entry;
DROP TRIGGER ledger_transaction_append_only ON ledger_transaction;
DROP FUNCTION ledger_reject_change();
DROP TRIGGER ledger_entry_check_inserted ON ledger_entry;
DROP FUNCTION ledger_entry_check_inserted();
DROP TRIGGER ledger_transaction_balanced ON ledger_transaction;
DROP FUNCTION ledger_transaction_check_balanced();
DROP FUNCTION ledger_transactions_check(bigint, bigint);
DROP FUNCTION ledger_transaction_check_one(bigint);
DROP FUNCTION ledger_transaction_refuse(bigint, numeric, text);
DROP TRIGGER ledger_transaction_stamp ON ledger_transaction;
DROP FUNCTION ledger_transaction_stamp();
ALTER TABLE ledger_transaction DROP COLUMN xid;
DROP SEQUENCE ledger_transaction_id_seq;
ALTER TABLE ledger_transaction ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY;
SELECT setval(pg_get_serial_sequence('ledger_transaction', 'id'), coalesce(max(id), 0) + 1, false)
  FROM ledger_transaction;
"""


class PostgreSQLOnlyRunSQL(migrations.RunSQL):
    """RunSQL that does nothing on other databases (SQLite relies on the services)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [PostgreSQLOnlyRunSQL(sql=FORWARD_SQL, reverse_sql=REVERSE_SQL)]
