"""A clearance's items matched, priced, written and hashed by PostgreSQL itself.

Why hand-written SQL: the ORM path (`clearances._record_orm`, kept for SQLite) brings
every matched work, every chosen offer and version to Python, builds 100,000 tuples,
hashes them and copies them back. At 100,000 identifiers against 1,000,000 works that
was 3.8 times one plain join of the identifiers, each step about one join's time plus
2.6 s of Python (docs/benchmarks.md, "Clearances", second to fourth passes). Here two
statements do it all and the second returns one row, the totals and the quote's digest:

- the identifiers of each kind arrive as one string, split by newlines (in manifest
  order, so an item's position is its kind's offset plus its ordinal), left joined to
  the works on that kind's unique column, into a temporary table that is analysed
  (its statistics choose the plan of the rest) and dropped after; then the licenses
  the organisation holds for the use; the cheapest active offer of the use per other
  work among its own and its collections' offers (`DISTINCT ON`, by price then offer
  id); each item's amount by a window function (a flat or per-unit price on a work's
  first item, a pool's on the pool's first); the items are inserted, and the totals
  counted from what was;
- the digest is the SHA-256 of the bytes `clearance_quotes.quote_digest` hashes, the
  `repr` of the totals, of the items and of the quoted versions, built by
  `string_agg`. `repr` of an int is its decimal text, of None `None`, of a bool
  `True` or `False`, and of a string that is printable ASCII without a quote or a
  backslash, the string between single quotes. Any other string (a DOI with a quote,
  say) and the digest is taken in Python from the rows instead (`quote_digest_now`).
  The purchase takes it again from the rows in Python, so any difference between
  the two would refuse every purchase of a clearance.

It decides what the ORM path decides, to the item:
`tests/licensing/services/test_clearance_paths.py` runs both on the mixed manifest
and compares items, counts, quote and digest. PostgreSQL only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache

from django.db import connection, models

from licensing.models import (
    Clearance,
    ClearanceItem,
    Collection,
    License,
    Offer,
    OfferVersion,
    Work,
)
from licensing.selectors.clearances import LOOKUP_COLUMNS
from licensing.services.clearance_quotes import (
    DIGEST_HEADER_FIELDS,
    DIGEST_ITEM_FIELDS,
    DIGEST_VERSION_FIELDS,
    quote_digest_now,
    quote_header_reprs,
    quoted_version_pks,
)

Status = ClearanceItem.Status
Reason = ClearanceItem.Reason
Pricing = OfferVersion.Pricing

_KIND_BRANCH = """
    SELECT %(offset_{kind})s::integer + k.n::integer - 1 AS position,
           %(prefix_{kind})s::text || k.value AS identifier,
           w.id AS work_id, w.reserved
    FROM unnest(string_to_array(%(values_{kind})s::text, E'\\n'))
         WITH ORDINALITY AS k(value, n)
    LEFT JOIN {work} w ON w.{column} = k.value"""

# The manifest matched to the works, as a table the planner has statistics for: as a
# CTE it guessed 200 distinct works among 100,000 rows, so it hashed the 900,000 offers
# to probe them with the manifest instead of the other way round, and probed the
# versions one by one (docs/benchmarks.md, "Clearances", fourth pass).
_MANIFEST_CREATE = """
CREATE TEMPORARY TABLE {manifest} ON COMMIT DROP AS {branches}"""

_ITEMS_INSERT = """
WITH held AS (
    SELECT DISTINCT ON (lw.work_id) lw.work_id, lw.license_id
    FROM {license_works} lw
    JOIN {license} l ON l.id = lw.license_id
    JOIN {version} lv ON lv.id = l.offer_version_id
    JOIN {offer} lo ON lo.id = lv.offer_id
    WHERE lw.work_id IN (SELECT work_id FROM {manifest} WHERE NOT reserved)
      AND l.organization_id = %(organization)s AND l.status = %(license_active)s
      AND lo.use = %(use)s AND l.starts_at <= %(at)s AND (l.ends_at IS NULL OR l.ends_at > %(at)s)
    ORDER BY lw.work_id, lw.license_id
), candidates AS (
    -- From the manifest's rows, not its distinct works: the planner knows how many.
    SELECT m.work_id, o.id AS offer_id, v.id AS version_id, v.pricing, {price} AS price,
           {version_repr} AS version_repr, {version_plain} AS version_plain
    FROM {manifest} m
    JOIN {offer} o ON o.work_id = m.work_id
    JOIN {version} v ON v.id = o.current_version_id
    WHERE NOT m.reserved
      AND o.status = %(offer_active)s AND o.use = %(use)s AND v.currency = %(currency)s
    UNION ALL
    SELECT m.work_id, o.id, v.id, v.pricing, {price}, {version_repr}, {version_plain}
    FROM {manifest} m
    JOIN {collection_works} cw ON cw.work_id = m.work_id
    JOIN {offer} o ON o.collection_id = cw.collection_id
    JOIN {version} v ON v.id = o.current_version_id
    WHERE NOT m.reserved
      AND o.status = %(offer_active)s AND o.use = %(use)s AND v.currency = %(currency)s
), chosen AS (
    SELECT DISTINCT ON (work_id) *
    FROM candidates ORDER BY work_id, price, offer_id
), decided AS (
    SELECT m.position, m.identifier, m.work_id, h.license_id,
           c.offer_id, c.version_id, c.pricing, c.price,
           CASE WHEN m.work_id IS NULL THEN %(unknown)s WHEN m.reserved THEN %(reserved)s
                WHEN h.license_id IS NOT NULL THEN %(licensed)s
                WHEN c.offer_id IS NOT NULL THEN %(licensable)s ELSE %(reserved)s END AS status,
           CASE WHEN m.reserved THEN %(by_creator)s
                WHEN m.work_id IS NOT NULL AND h.license_id IS NULL AND c.offer_id IS NULL
                THEN %(not_offered)s ELSE '' END AS reason
    FROM {manifest} m
    LEFT JOIN held h ON h.work_id = m.work_id AND NOT m.reserved
    LEFT JOIN chosen c ON c.work_id = m.work_id AND NOT m.reserved AND h.license_id IS NULL
), inserted AS (
    INSERT INTO {item} ({item_columns})
    SELECT %(clearance)s, position, identifier, status, reason, work_id, offer_id, version_id,
           CASE WHEN offer_id IS NULL THEN NULL
                WHEN row_number() OVER (
                    PARTITION BY offer_id,
                    CASE WHEN pricing = %(pool)s THEN NULL ELSE work_id END ORDER BY position
                ) = 1 THEN price
                ELSE 0 END,
           license_id
    FROM decided
    RETURNING {returning}
), totals AS (
    SELECT count(*) FILTER (WHERE status = %(licensable)s) AS licensable_count,
           count(*) FILTER (WHERE status = %(licensed)s) AS licensed_count,
           count(*) FILTER (WHERE status = %(reserved)s) AS reserved_count,
           count(*) FILTER (WHERE status = %(unknown)s) AS unknown_count,
           coalesce(sum(amount), 0)::bigint AS quote_amount,
           count(DISTINCT work_id) FILTER (WHERE offer_id IS NOT NULL) AS quote_works,
           count(DISTINCT offer_id) AS quote_offers,
           string_agg({item_repr}, ', ' ORDER BY position) FILTER (WHERE %(hash)s) AS items
    FROM inserted ci
), versions AS (
    SELECT string_agg(version_repr, ', ' ORDER BY version_id) AS versions,
           coalesce(bool_and(version_plain), true) AS plain
    FROM (
        SELECT DISTINCT ON (version_id) version_id, version_repr, version_plain
        FROM chosen c WHERE NOT EXISTS (SELECT FROM held h WHERE h.work_id = c.work_id)
    ) quoted
)
SELECT {totals},
       encode(sha256(convert_to({header} || '[' || coalesce(t.items, '') || ']['
                                || coalesce(v.versions, '') || ']', 'UTF8')), 'hex'),
       %(hash)s AND v.plain
FROM totals t, versions v
"""
# Printable ASCII but the quote and the backslash: such a string's repr is itself in quotes.
_PLAIN = "'^[] -&(-[^-~]*$'"


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _table(model: type[models.Model]) -> str:
    return _quote(model._meta.db_table)


def _column(model: type[models.Model], name: str) -> models.Field:
    return model._meta.pk if name == "pk" else model._meta.get_field(name.removesuffix("_id"))


def _reprs(model: type[models.Model], names: Sequence[str], alias: str) -> tuple[str, str]:
    """SQL for Python's `repr` of a row of these fields, and for "its strings are plain".

    One `concat()` per row: chained `||` made a new string per piece, and the text of
    100,000 items is built.
    """
    parts, strings = ["'('"], []
    for name in names:
        field = _column(model, name)
        column = f"{alias}.{_quote(field.column)}"
        if len(parts) > 1:
            parts.append("', '")
        if isinstance(field, models.BooleanField):
            parts.append(f"CASE WHEN {column} THEN 'True' ELSE 'False' END")
        elif isinstance(field, models.DecimalField):
            # `_plain`: format(value.normalize(), "f"), which trim_scale's text is.
            parts.append(f"coalesce('''' || trim_scale({column})::text || '''', 'None')")
        elif isinstance(field, (models.CharField, models.TextField)):
            strings.append(column)
            if field.null:
                parts.append(f"coalesce('''' || {column} || '''', 'None')")
            else:
                parts += ["''''", column, "''''"]
        else:
            assert isinstance(field, (models.IntegerField, models.ForeignKey)), name
            parts.append(f"coalesce({column}::text, 'None')" if field.null else column)
    parts.append("')'")
    plain = f"concat({', '.join(strings)}) ~ {_PLAIN}" if strings else "true"
    return f"concat({', '.join(parts)})", plain


# The totals the statement counts itself; the header's other fields are parameters.
_TOTALS = (
    *(f"{status}_count" for status in Status.values),
    "quote_amount",
    "quote_works",
    "quote_offers",
)


MANIFEST_TABLE = "clearance_manifest"


@cache
def _statements(kinds: tuple[str, ...]) -> tuple[str, str]:
    """The manifest's table and the items' statement, for manifests of these kinds."""
    version = OfferVersion._meta
    tables = {
        "work": _table(Work),
        "offer": _table(Offer),
        "version": _table(OfferVersion),
        "license": _table(License),
        "license_works": _table(License.works.through),
        "collection_works": _table(Collection.works.through),
        "item": _table(ClearanceItem),
    }
    branches = " UNION ALL".join(
        _KIND_BRANCH.format(kind=kind, column=_quote(LOOKUP_COLUMNS[kind]), **tables)
        for kind in kinds
    )
    amount, pricing = (_quote(version.get_field(name).column) for name in ("amount", "pricing"))
    item_columns = [_quote(_column(ClearanceItem, name).column) for name in DIGEST_ITEM_FIELDS]
    item_repr, _ = _reprs(ClearanceItem, DIGEST_ITEM_FIELDS, "ci")  # strings: see `hash`
    version_repr, version_plain = _reprs(OfferVersion, DIGEST_VERSION_FIELDS, "v")
    header = " || ', ' || ".join(
        f"t.{name}::text" if name in _TOTALS else f"%(header_{name})s::text"
        for name in DIGEST_HEADER_FIELDS
    )
    manifest = _MANIFEST_CREATE.format(manifest=MANIFEST_TABLE, branches=branches)
    return manifest, _ITEMS_INSERT.format(
        manifest=MANIFEST_TABLE,
        price=f"CASE WHEN v.{pricing} = %(per_unit)s THEN 0 ELSE coalesce(v.{amount}, 0) END",
        item_columns=", ".join(
            [_quote(ClearanceItem._meta.get_field("clearance").column), *item_columns]
        ),
        returning=", ".join(item_columns),
        item_repr=item_repr,
        version_repr=version_repr,
        version_plain=version_plain,
        header=f"'(' || {header} || ')'",
        totals=", ".join(f"t.{name}" for name in _TOTALS),
        **tables,
    )


def _constants() -> dict[str, str]:
    return {
        **{status: status for status in Status.values},
        "by_creator": Reason.RESERVED_BY_CREATOR.value,
        "not_offered": Reason.NOT_OFFERED.value,
        "pool": Pricing.POOL.value,
        "per_unit": Pricing.PER_UNIT.value,
        "license_active": License.Status.ACTIVE.value,
        "offer_active": Offer.Status.ACTIVE.value,
    }


def _by_kind(identifiers: Sequence[tuple[str, str]]) -> dict[str, tuple[int, list[str]]]:
    """Each kind's first position and values, in manifest order.

    Tokens start with their kind (`doi:`, `isbn:`, … `wrk_`) and the manifest is sorted
    by token, so each kind's identifiers are one run of positions.
    """
    runs: dict[str, tuple[int, list[str]]] = {}
    previous = None
    for position, (kind, value) in enumerate(identifiers):
        if kind != previous:
            assert kind not in runs, "a kind's identifiers are not contiguous"
            runs[kind] = (position, [])
            previous = kind
        runs[kind][1].append(value)
    return runs


def clearance_items_write(
    clearance: Clearance, identifiers: Sequence[tuple[str, str]], at: datetime
) -> None:
    """Write the items of a saved clearance; set its counts, quote and digest (not saved).

    `identifiers` are `identifiers_normalize`'s: distinct, sorted by token.
    """
    runs = _by_kind(identifiers)
    params: dict[str, object] = {
        **_constants(),
        "clearance": clearance.pk,
        "organization": clearance.organization_id,
        "use": clearance.use,
        "currency": clearance.currency,
        "at": at,
    }
    for name, value in quote_header_reprs(clearance).items():
        if name not in _TOTALS:
            params[f"header_{name}"] = value
    plain = True
    for kind, (offset, values) in runs.items():
        params[f"offset_{kind}"] = offset
        params[f"prefix_{kind}"] = "" if kind == "work" else f"{kind}:"
        # One string, split by PostgreSQL: psycopg dumps a list of 100,000 strings in
        # Python (0.7 s). No normalised identifier holds a newline (nor any whitespace).
        params[f"values_{kind}"] = joined = "\n".join(values)
        assert joined.count("\n") == len(values) - 1, "an identifier holds a newline"
        printable = "".join(values).isprintable()
        plain = plain and printable and "'" not in joined and "\\" not in joined
    # Each identifier's repr is itself in quotes, or the items are not hashed in SQL.
    params["hash"] = plain
    with connection.cursor() as cursor, connection.wrap_database_errors:
        # psycopg's own cursor, never to prepare it: a generic plan would not know how
        # many identifiers there are. Errors are still Django's.
        manifest, items = _statements(tuple(runs))
        cursor.cursor.execute(manifest, params, prepare=False)
        cursor.execute(f"ANALYZE {MANIFEST_TABLE}")
        cursor.cursor.execute(items, params, prepare=False)
        *totals, clearance.quote_digest, plain = cursor.fetchone()
        # Dropped now, not at COMMIT: a transaction may make more than one clearance.
        cursor.execute(f"DROP TABLE {MANIFEST_TABLE}")
    for name, value in zip(_TOTALS, totals, strict=True):
        setattr(clearance, name, value)
    if not plain:
        clearance.quote_digest = quote_digest_now(clearance, quoted_version_pks(clearance))
