"""Read and check request parameters the way Stripe does.

Every endpoint declares the parameters it accepts; anything else is rejected with
`parameter_unknown` instead of being ignored, because a silently ignored parameter
is how an integration ships a bug that only real Stripe would have caught.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from stripe_sandbox.errors import parameter_invalid, parameter_missing, parameter_unknown

# Always accepted: response shaping, not part of the operation.
_UNIVERSAL = frozenset({"expand"})
_CURRENCY = re.compile(r"^[a-z]{3}$")
_METADATA_KEYS_MAX = 50
_METADATA_KEY_CHARS_MAX = 40
_METADATA_VALUE_CHARS_MAX = 500
AMOUNT_MAX = 99_999_999


def only(params: dict[str, Any], allowed: Iterable[str]) -> None:
    """Reject the first parameter that the endpoint does not accept."""
    accepted = _UNIVERSAL | frozenset(allowed)
    for name in params:
        if name not in accepted:
            raise parameter_unknown(name)


def string(params: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    """Return a string parameter (None when absent and optional)."""
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise parameter_missing(name)
        return None
    if not isinstance(value, str):
        raise parameter_invalid(name, f"Invalid string: {name} must be a string.")
    return value


def required_string(params: dict[str, Any], name: str) -> str:
    """Return a required string parameter."""
    value = string(params, name, required=True)
    assert value is not None
    return value


def integer(
    params: dict[str, Any], name: str, *, required: bool = False, minimum: int = 0
) -> int | None:
    """Return an integer parameter within [minimum, AMOUNT_MAX]."""
    raw = string(params, name, required=required)
    if raw is None:
        return None
    if not re.fullmatch(r"-?\d+", raw):
        raise parameter_invalid(name, f"Invalid integer: {raw}", code="parameter_invalid_integer")
    value = int(raw)
    if value < minimum:
        raise parameter_invalid(
            name,
            f"This value must be greater than or equal to {minimum}.",
            code="parameter_invalid_integer",
        )
    if value > AMOUNT_MAX:
        raise parameter_invalid(
            name, f"This value must be less than or equal to {AMOUNT_MAX}.", code="amount_too_large"
        )
    return value


def required_integer(params: dict[str, Any], name: str, *, minimum: int = 0) -> int:
    """Return a required integer parameter."""
    value = integer(params, name, required=True, minimum=minimum)
    assert value is not None
    return value


def boolean(params: dict[str, Any], name: str, *, default: bool = False) -> bool:
    """Return a boolean parameter given as the strings `true` / `false`."""
    raw = string(params, name)
    if raw is None:
        return default
    if raw not in ("true", "false"):
        raise parameter_invalid(name, f"Invalid boolean: {raw}", code="parameter_invalid_boolean")
    return raw == "true"


def currency(params: dict[str, Any], name: str = "currency") -> str:
    """Return a required ISO 4217 currency code, lower case like Stripe answers it."""
    raw = required_string(params, name).lower()
    if not _CURRENCY.fullmatch(raw):
        raise parameter_invalid(name, f"Invalid currency: {raw}.")
    return raw


def metadata(params: dict[str, Any], name: str = "metadata") -> dict[str, str]:
    """Return metadata as Stripe limits it: 50 keys, 40-char keys, 500-char string values."""
    raw = params.get(name)
    if raw is None or raw == "":
        return {}
    if isinstance(raw, list):
        # `metadata[0]=x` decodes to a list; Stripe treats the indexes as keys.
        raw = {str(index): value for index, value in enumerate(raw)}
    if not isinstance(raw, dict):
        raise parameter_invalid(
            name, "Invalid hash: metadata must be a hash of string keys and values."
        )
    if len(raw) > _METADATA_KEYS_MAX:
        raise parameter_invalid(name, f"Metadata can have at most {_METADATA_KEYS_MAX} keys.")
    for key, value in raw.items():
        if len(key) > _METADATA_KEY_CHARS_MAX:
            raise parameter_invalid(
                f"{name}[{key}]",
                f"Metadata keys can be at most {_METADATA_KEY_CHARS_MAX} characters.",
            )
        if not isinstance(value, str):
            raise parameter_invalid(f"{name}[{key}]", "Metadata values must be strings.")
        if len(value) > _METADATA_VALUE_CHARS_MAX:
            raise parameter_invalid(
                f"{name}[{key}]",
                f"Metadata values can be at most {_METADATA_VALUE_CHARS_MAX} characters.",
            )
    return {key: value for key, value in raw.items() if value != ""}


def hash_param(params: dict[str, Any], name: str) -> dict[str, Any]:
    """Return a nested hash parameter (empty when absent)."""
    raw = params.get(name)
    if raw is None or raw == "":
        return {}
    if not isinstance(raw, dict):
        raise parameter_invalid(name, f"Invalid hash: {name} must be a hash.")
    return raw


def string_list(params: dict[str, Any], name: str) -> list[str]:
    """Return a list-of-strings parameter (`expand[0]=a` or `expand[]=a`)."""
    raw = params.get(name)
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        return [raw]
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise parameter_invalid(name, f"Invalid array: {name} must be a list of strings.")
    return raw


def merged_metadata(
    current: dict[str, str], params: dict[str, Any], name: str = "metadata"
) -> dict[str, str]:
    """Return `current` updated by an update call's metadata, as Stripe merges it.

    Keys given are set; a key given as "" is removed; `metadata=""` clears all.
    """
    metadata(params, name)  # validate before merging
    raw = params.get(name)
    if raw == "":
        return {}
    if isinstance(raw, list):
        raw = {str(index): value for index, value in enumerate(raw)}
    merged = dict(current)
    for key, value in (raw or {}).items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
