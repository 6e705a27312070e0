"""Stripe's published OpenAPI description, as JSON Schema validators for sandbox answers.

The spec (`stripe_openapi/spec3.json.xz`, its source and version in the README there)
is OpenAPI 3.0, whose schema dialect differs from JSON Schema in one way that matters
here: `nullable: true` beside a schema means "or null". It is rewritten as
`anyOf: [schema, {"type": "null"}]`; `x-...` extensions are dropped; `$ref`s stay and
resolve inside the document. Expandable fields need nothing more: the spec itself
gives them as `anyOf: [string id, $ref object]`, so an id and an expanded object
both pass, and anything else fails.

`strict=True` also closes every object schema that lists `properties` but says
nothing about `additionalProperties`, so a field the sandbox invents (or misspells)
fails even though Stripe's spec, which never closes its objects, would let it by.
"""

from __future__ import annotations

import functools
import json
import lzma
import re
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_FILE = Path(__file__).with_name("stripe_openapi") / "spec3.json.xz"
_BASE_URI = "https://stripe-openapi.invalid/spec3.json"


def _convert(node: Any, *, strict: bool, in_properties: bool = False) -> Any:
    if isinstance(node, list):
        return [_convert(item, strict=strict) for item in node]
    if not isinstance(node, dict):
        return node
    if in_properties:  # keys are property names, values schemas
        return {name: _convert(value, strict=strict) for name, value in node.items()}
    out = {
        key: _convert(value, strict=strict, in_properties=key == "properties")
        for key, value in node.items()
        if not key.startswith("x-") and key != "nullable"
    }
    if strict and "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if node.get("nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


@functools.cache
def raw_spec() -> dict[str, Any]:
    """Return the vendored spec as published."""
    with lzma.open(SPEC_FILE, "rt", encoding="utf-8") as source:
        return json.load(source)


@functools.cache
def _registry(strict: bool) -> Registry:
    document = _convert(raw_spec(), strict=strict)
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    return Registry().with_resource(_BASE_URI, resource)


def _pointer(*parts: str) -> str:
    escaped = (part.replace("~", "~0").replace("/", "~1") for part in parts)
    return _BASE_URI + "#/" + "/".join(escaped)


@functools.cache
def _validator(pointer: str, strict: bool) -> Draft202012Validator:
    return Draft202012Validator({"$ref": pointer}, registry=_registry(strict))


def _template_pattern(template: str) -> re.Pattern[str]:
    return re.compile(
        "".join(
            "[^/]+" if piece.startswith("{") else re.escape(piece)
            for piece in re.split(r"(\{[^}]+\})", template)
        )
        + r"\Z"
    )


@functools.cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    # Literal paths first, so /v1/account is not taken for /v1/accounts/{account}.
    templates = sorted(raw_spec()["paths"], key=lambda path: (path.count("{"), path))
    return [(_template_pattern(template), template) for template in templates]


def operation_path(method: str, path: str) -> str:
    """Return the spec's path template for a request path (`/v1/transfers/{transfer}`)."""
    for pattern, template in _templates():
        if pattern.match(path) and method.lower() in raw_spec()["paths"][template]:
            return template
    raise LookupError(f"Stripe's spec has no operation {method} {path}")


def response_errors(
    method: str, path: str, status: int, body: Any, *, strict: bool = True
) -> list[str]:
    """Return how an answer differs from the operation's response schema (empty: it conforms)."""
    try:
        template = operation_path(method, path)
    except LookupError:
        if status < 400:
            raise
        # No such operation (a 404 URL, a 405 method): Stripe still answers its error body.
        pointer = _pointer("components", "schemas", "error")
        return _messages(_validator(pointer, strict).iter_errors(body))
    responses = raw_spec()["paths"][template][method.lower()]["responses"]
    code = str(status) if str(status) in responses else "default"
    pointer = _pointer("paths", template, method.lower(), "responses", code, "content")
    pointer += "/application~1json/schema"
    return _messages(_validator(pointer, strict).iter_errors(body))


@functools.cache
def _schema_for_object_type() -> dict[str, str]:
    found = {}
    for name, schema in raw_spec()["components"]["schemas"].items():
        enum = schema.get("properties", {}).get("object", {}).get("enum")
        if enum and len(enum) == 1 and "x-resourceId" in schema:
            found.setdefault(enum[0], name)
    return found


def object_errors(obj: dict[str, Any], *, strict: bool = True) -> list[str]:
    """Return how a Stripe object differs from the schema its `object` field names."""
    name = _schema_for_object_type().get(obj.get("object", ""))
    if name is None:
        return [f"no schema for object type {obj.get('object')!r}"]
    return _messages(_validator(_pointer("components", "schemas", name), strict).iter_errors(obj))


def event_errors(event: dict[str, Any], *, strict: bool = True) -> list[str]:
    """Return how an event differs from `event`, its `data.object` from its own schema."""
    errors = _messages(
        _validator(_pointer("components", "schemas", "event"), strict).iter_errors(event)
    )
    data_object = event.get("data", {}).get("object")
    if isinstance(data_object, dict):
        errors += [
            f"data.object: {message}" for message in object_errors(data_object, strict=strict)
        ]
    return errors


def _messages(errors: Any) -> list[str]:
    return sorted(_describe(error) for error in errors)


def _leaves(error: ValidationError) -> list[ValidationError]:
    if not error.context:
        return [error]
    return [leaf for sub in error.context for leaf in _leaves(sub)]


def _describe(error: ValidationError) -> str:
    # anyOf failures (nullable, expandable) hide the useful part in their context: the
    # deepest failure, other than "is not null" or "is not a string id", says what is wrong.
    def rank(leaf: ValidationError) -> tuple[int, int]:
        alternative = leaf.validator == "type" and leaf.validator_value in ("null", "string")
        return (-len(leaf.absolute_path), int(alternative))

    leaf = min(_leaves(error), key=rank)
    where = "/".join(str(part) for part in leaf.absolute_path) or "(root)"
    message = leaf.message
    shown = repr(leaf.instance)
    if len(shown) > 60:
        message = message.replace(shown, shown[:57] + "...")
    return f"{where}: {message}"
