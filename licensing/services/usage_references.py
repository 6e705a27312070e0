"""Lock the rows a batch of usage refers to, once each, in place of per-event FK checks.

The usage tables have no database FK constraints (`licensing/models/usage.py`): Django
made them deferred, so PostgreSQL checked each at commit, a lookup and a `FOR KEY
SHARE` lock of the referenced row per event per reference, 40% of the database's time
per batch (docs/usage.md "References"). This takes the same locks once per referenced
row, so none can be deleted (or its key changed) until the batch commits; Django's
`PROTECT` refuses deleting them afterwards.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError

from licensing.models import License, LicenseeOrganization, Work


def usage_references_lock(*, cursor: Any, organization_id: int) -> None:
    """Lock the organisation and the licenses and works of `usage_resolved` (PostgreSQL).

    A row deleted since the batch was resolved is missing here, and the batch fails as
    the FK check would have failed it.
    """
    locked = " + ".join(
        f"(SELECT count(*) FROM (SELECT 1 FROM {table} WHERE id IN ({ids}) FOR KEY SHARE) {alias})"
        for table, ids, alias in (
            (LicenseeOrganization._meta.db_table, "%(org)s", "o"),
            (License._meta.db_table, "SELECT license_id FROM usage_resolved", "l"),
            (Work._meta.db_table, "SELECT work_id FROM usage_resolved", "w"),
        )
    )
    cursor.execute(
        f"SELECT {locked}, (SELECT 1 + count(DISTINCT license_id) + count(DISTINCT work_id)"
        " FROM usage_resolved)",
        {"org": organization_id},
    )
    locked_rows, referenced_rows = cursor.fetchone()
    if locked_rows != referenced_rows:
        raise IntegrityError("a license, work or organisation of the batch was deleted")
