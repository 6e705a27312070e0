"""Stripe's list envelope, cursor pagination, the `created` filter and `expand[]`.

Lists are newest first. `starting_after=X` returns the page of objects older than
X, `ending_before=X` the page of objects just newer than X (still newest first),
and `has_more` says whether objects remain beyond the page in that direction —
the contract `auto_paging_iter()` in the SDK relies on.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from stripe_sandbox import params as p
from stripe_sandbox.errors import parameter_invalid, parameter_unknown, resource_missing
from stripe_sandbox.store import Store

LIST_PARAMS = frozenset({"limit", "starting_after", "ending_before"})
_LIMIT_DEFAULT = 10
_LIMIT_MAX = 100
_EXPAND_DEPTH_MAX = 4


def _limit(params: dict[str, Any]) -> int:
    limit = p.integer(params, "limit", minimum=1)
    if limit is None:
        return _LIMIT_DEFAULT
    if limit > _LIMIT_MAX:
        raise parameter_invalid(
            "limit",
            f"This value must be less than or equal to {_LIMIT_MAX} (it currently is '{limit}').",
            code="parameter_invalid_integer",
        )
    return limit


def _cursor_index(items: list[dict[str, Any]], cursor: str, name: str, kind: str) -> int:
    for index, item in enumerate(items):
        if item["id"] == cursor:
            return index
    raise resource_missing(kind, cursor, param=name)


def paginate(
    items: list[dict[str, Any]], params: dict[str, Any], url: str, kind: str
) -> dict[str, Any]:
    """Return one page of `items` (newest first) in Stripe's list envelope."""
    limit = _limit(params)
    starting_after = p.string(params, "starting_after")
    ending_before = p.string(params, "ending_before")
    if starting_after and ending_before:
        raise parameter_invalid(
            "ending_before",
            "You may only specify one of these parameters: ending_before, starting_after.",
        )
    if ending_before:
        end = _cursor_index(items, ending_before, "ending_before", kind)
        start = max(0, end - limit)
        page, has_more = items[start:end], start > 0
    else:
        start = 0
        if starting_after:
            start = _cursor_index(items, starting_after, "starting_after", kind) + 1
        page, has_more = items[start : start + limit], start + limit < len(items)
    return {
        "object": "list",
        "data": [copy.deepcopy(item) for item in page],
        "has_more": has_more,
        "url": url,
    }


def _expand_path(store: Store, node: Any, parts: list[str]) -> Any:
    if not parts:
        return node
    if isinstance(node, list):
        return [_expand_path(store, item, parts) for item in node]
    if not isinstance(node, dict) or parts[0] not in node:
        raise parameter_invalid("expand", f"This property cannot be expanded ({parts[0]}).")
    head, rest = parts[0], parts[1:]
    value = node[head]
    if isinstance(value, str):
        target = store.objects.get(value)
        if target is None:
            raise parameter_invalid("expand", f"This property cannot be expanded ({head}).")
        value = copy.deepcopy(target)
    node[head] = _expand_path(store, value, rest)
    return node


def expand_paths(params: dict[str, Any]) -> list[list[str]]:
    """Return the `expand[]` paths split on dots; call before the work, as a validation."""
    paths = [path.split(".") for path in p.string_list(params, "expand")]
    if any(len(parts) > _EXPAND_DEPTH_MAX for parts in paths):
        raise parameter_invalid("expand", "You cannot expand more than 4 levels of a property.")
    return paths


def expand(store: Store, body: dict[str, Any], paths: list[list[str]]) -> dict[str, Any]:
    """Replace ids named by `expand[]` (dotted paths, `data.` for lists) with their objects."""
    for parts in paths:
        _expand_path(store, body, parts)
    return body


_RANGE_KEYS = ("gt", "gte", "lt", "lte")
_RANGE_CHECKS = {
    "gt": lambda value, bound: value > bound,
    "gte": lambda value, bound: value >= bound,
    "lt": lambda value, bound: value < bound,
    "lte": lambda value, bound: value <= bound,
}


def _whole_number(raw: Any, param: str) -> int:
    if not isinstance(raw, str) or not re.fullmatch(r"\d{1,12}", raw):
        raise parameter_invalid(param, f"Invalid integer: {raw}", code="parameter_invalid_integer")
    return int(raw)


def range_filter(
    items: list[dict[str, Any]], params: dict[str, Any], name: str
) -> list[dict[str, Any]]:
    """Keep the items whose field `name` matches `name=N` or `name[gt|gte|lt|lte]=N`.

    Stripe's filter on `created` (and a top-up's `amount`): reconciliation reads one
    day with `created[gte]=start&created[lt]=end`.
    """
    raw = params.get(name)
    if raw is None or raw == "":
        return items
    if isinstance(raw, str):
        exact = _whole_number(raw, name)
        return [item for item in items if item[name] == exact]
    if not isinstance(raw, dict):
        raise parameter_invalid(name, f"Invalid hash: {name} must be an integer or a hash.")
    bounds = {}
    for key, value in raw.items():
        if key not in _RANGE_KEYS:
            raise parameter_unknown(f"{name}[{key}]")
        bounds[key] = _whole_number(value, f"{name}[{key}]")
    return [
        item
        for item in items
        if all(_RANGE_CHECKS[key](item[name], bound) for key, bound in bounds.items())
    ]
