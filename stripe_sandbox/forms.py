"""Decode Stripe's form encoding into nested dicts and lists.

Stripe's v1 API takes `application/x-www-form-urlencoded` bodies (and query strings
for GET) with bracketed keys: `metadata[order]=42`, `capabilities[transfers][requested]=true`,
`expand[0]=latest_charge` (what the Python SDK sends) or `expand[]=latest_charge`
(what curl users write). Values stay strings: each endpoint coerces what it reads,
as Stripe does, so that "Invalid integer" errors name the parameter.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

_KEY_PART = re.compile(r"\[([^\[\]]*)\]")
_DEPTH_MAX = 8
_PAIRS_MAX = 2_000


class FormError(ValueError):
    """A key that cannot be decoded (mixed list/dict use, too deep, too many pairs)."""


def _split_key(key: str) -> list[str]:
    head, bracket, _ = key.partition("[")
    if not bracket:
        return [key]
    rest = key[len(head) :]
    parts = _KEY_PART.findall(rest)
    if "".join(f"[{part}]" for part in parts) != rest:
        raise FormError(f"Invalid parameter name: {key}")
    if len(parts) > _DEPTH_MAX:
        raise FormError(f"Parameter nested too deeply: {key}")
    return [head, *parts]


def _listify(node: Any) -> Any:
    """Turn dicts whose keys are all indexes (or appends) into lists, recursively."""
    if not isinstance(node, dict):
        return node
    converted = {key: _listify(value) for key, value in node.items()}
    if converted and all(key == "" or key.isdigit() for key in converted):
        appended = converted.pop("", [])
        indexed = [converted[key] for key in sorted(converted, key=int)]
        return indexed + (appended if isinstance(appended, list) else [appended])
    return converted


def decode(encoded: str) -> dict[str, Any]:
    """Decode a form body or query string into nested dicts and lists of strings."""
    pairs = parse_qsl(encoded, keep_blank_values=True, max_num_fields=_PAIRS_MAX)
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = _split_key(key)
        node = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if part == "" and not last:
                raise FormError(f"Invalid parameter name: {key}")
            if last:
                if part == "":
                    node.setdefault("", []).append(value)
                else:
                    node[part] = value
                break
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise FormError(f"Parameter {key} mixes a value and a hash")
            node = child
    # The top level is always a hash of parameter names, never a list.
    return {key: _listify(value) for key, value in root.items()}
