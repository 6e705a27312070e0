"""On PostgreSQL, check at commit that every work's co-owner shares total 10,000.

The services check the total before writing; this deferred constraint trigger checks
it again inside the database, so neither a code path that forgets nor a hand-written
SQL statement can leave a work owned 99% or 101%. Deferred, because replacing a set of
shares passes through intermediate totals within one transaction. SQLite has no
deferred triggers; there the services' check is the only one.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION licensing_rights_shares_total_check() RETURNS trigger AS $$
DECLARE
    work_ids bigint[];
    checked_work bigint;
    total bigint;
    share_count bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        work_ids := ARRAY[NEW.work_id];
    ELSIF TG_OP = 'DELETE' THEN
        work_ids := ARRAY[OLD.work_id];
    ELSE
        work_ids := ARRAY[OLD.work_id, NEW.work_id];
    END IF;
    FOREACH checked_work IN ARRAY work_ids LOOP
        SELECT COALESCE(SUM(basis_points), 0), COUNT(*) INTO total, share_count
          FROM licensing_rightsshare WHERE work_id = checked_work;
        -- A work deleted in this transaction took its shares with it: nothing to check.
        IF share_count = 0 AND NOT EXISTS (SELECT 1 FROM licensing_work WHERE id = checked_work) THEN
            CONTINUE;
        END IF;
        IF total <> 10000 THEN
            RAISE EXCEPTION 'the shares of work % total % basis points, not 10000', checked_work, total
                USING ERRCODE = 'check_violation';
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER licensing_rights_shares_total
    AFTER INSERT OR UPDATE OR DELETE ON licensing_rightsshare
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION licensing_rights_shares_total_check();
"""

DROP = """
DROP TRIGGER IF EXISTS licensing_rights_shares_total ON licensing_rightsshare;
DROP FUNCTION IF EXISTS licensing_rights_shares_total_check();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("licensing", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
