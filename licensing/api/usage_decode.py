"""Decode and check a usage batch with msgspec, without a DRF serializer per event.

The body is decoded once into `{"events": [raw, ...]}` and each raw event into a
typed `EventInput` struct (unknown fields refused), so a batch of 10,000 costs
milliseconds and every bad event gets its own `details` entry. DRF still owns the
endpoint, the error body (the view raises `UsageError`) and the schema (the view's
serializers describe this shape for drf-spectacular).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from django.core.exceptions import ValidationError

from licensing.identifiers import identifier_parse
from licensing.models import OfferVersion
from licensing.models.usage import EVENT_ID_LENGTH_MAX, MODEL_NAME_LENGTH_MAX, UNITS_MAX

BATCH_SIZE_MAX = 10_000
WORK_REFERENCE_LENGTH_MAX = 2_100

EventId = Annotated[str, msgspec.Meta(min_length=1, max_length=EVENT_ID_LENGTH_MAX)]
Units = Annotated[int, msgspec.Meta(ge=1, le=UNITS_MAX)]
AwareTime = Annotated[dt.datetime, msgspec.Meta(tz=True)]


class EventInput(msgspec.Struct, forbid_unknown_fields=True):
    id: EventId
    license: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    work: Annotated[str, msgspec.Meta(min_length=1, max_length=WORK_REFERENCE_LENGTH_MAX)]
    units: Units
    unit: str
    occurred_at: AwareTime
    model: Annotated[str, msgspec.Meta(max_length=MODEL_NAME_LENGTH_MAX)] | None = None


class CorrectionInput(msgspec.Struct, forbid_unknown_fields=True):
    id: EventId
    units: Annotated[int, msgspec.Meta(ge=0, le=UNITS_MAX)]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class _Batch(msgspec.Struct):
    events: list[msgspec.Raw] | None = None
    corrections: list[msgspec.Raw] | None = None


_batch_decoder = msgspec.json.Decoder(_Batch)
_event_decoder = msgspec.json.Decoder(EventInput)
_correction_decoder = msgspec.json.Decoder(CorrectionInput)
_UNITS = frozenset(OfferVersion.Unit.values)


class BatchMalformed(Exception):
    """The body is not a JSON object with a list of 1..10,000 items (a 400)."""

    def __init__(self, code: str, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.param = code, message, param


def _detail(index: int, param: str | None, code: str, message: str) -> dict[str, Any]:
    return {"index": index, "param": param, "code": code, "message": message}


def _param_of(error: msgspec.ValidationError) -> str | None:
    # msgspec says "... - at `$.units`"; the param is the part after `$.`.
    text = str(error)
    if "`$." in text:
        return text.rsplit("`$.", 1)[1].rstrip("`").split("[")[0].split(".")[0]
    if "missing required field" in text:
        return text.rsplit("`", 2)[-2]
    if "unknown field" in text:
        return text.rsplit("`", 2)[-2]
    return None


def _with_nul(item: msgspec.Struct, names: tuple[str, ...]) -> str | None:
    """Name the first text field holding a NUL (PostgreSQL text cannot store one)."""
    for name in names:
        if "\x00" in (getattr(item, name) or ""):
            return name
    return None


def _too_deep(body: bytes) -> bool:
    """Whether the body opens more than a batch ever needs (an object of lists of objects).

    Checked on the raw bytes only when they start deep, so a valid batch pays nothing.
    """
    head = body.lstrip()[:64].replace(b" ", b"")
    return head.startswith((b"[[", b"[{", b'{"events":[[', b'{"corrections":[['))


def batch_items(body: bytes, *, key: str) -> list[msgspec.Raw]:
    """Return the raw items under `key`, or raise `BatchMalformed`."""
    if body.count(b"[") + body.count(b"{") > 0 and _too_deep(body):
        raise BatchMalformed("json_too_deep", "The JSON is nested too deeply.")
    try:
        batch = _batch_decoder.decode(body)
    except RecursionError:
        raise BatchMalformed("json_too_deep", "The JSON is nested too deeply.") from None
    except msgspec.DecodeError as error:
        if isinstance(error, msgspec.ValidationError):
            raise BatchMalformed("parameter_invalid", f"Send {{{key!r}: [...]}}.", key) from None
        raise BatchMalformed("invalid_json", "The body is not valid JSON.") from None
    items = getattr(batch, key)
    if items is None:
        raise BatchMalformed("parameter_missing", f"{key!r} is required.", key)
    if not 1 <= len(items) <= BATCH_SIZE_MAX:
        raise BatchMalformed(
            "parameter_invalid", f"Send 1 to {BATCH_SIZE_MAX:,} {key} a call.", key
        )
    return items


def work_reference_parse(reference: str) -> tuple[str, str]:
    """Return ("public_id", id) or (identifier kind, canonical value); raise ValueError."""
    if reference.startswith("wrk_"):
        return "public_id", reference
    try:
        return identifier_parse(reference)
    except ValidationError as error:
        raise ValueError(error.messages[0]) from None


def nul_possible(body: bytes) -> bool:
    """Whether any string of a JSON body can hold a NUL: only as the escape \\u0000.

    JSON forbids raw control characters in strings (msgspec refuses them), so a body
    without that escape needs no per-field NUL check: the check per event and field
    was the slowest step of decoding a batch.
    """
    return b"\\u0000" in body


def events_decode(
    items: list[msgspec.Raw], *, nul_check: bool = True
) -> tuple[list[tuple[EventInput, tuple[str, str]]], list[dict[str, Any]]]:
    """Decode each event; return (event, parsed work reference) pairs and the bad ones."""
    events: list[tuple[EventInput, tuple[str, str]]] = []
    details: list[dict[str, Any]] = []
    for index, raw in enumerate(items):
        try:
            event = _event_decoder.decode(raw)
        except msgspec.DecodeError as error:
            details.append(_detail(index, _param_of(error), "invalid", str(error)))
            continue
        text_field = nul_check and _with_nul(event, ("id", "license", "work", "model"))
        if text_field:
            details.append(_detail(index, text_field, "invalid", "A NUL character."))
            continue
        if event.unit not in _UNITS:
            details.append(_detail(index, "unit", "unit_unknown", "No such unit."))
            continue
        try:
            reference = work_reference_parse(event.work)
        except ValueError as error:
            details.append(_detail(index, "work", "work_invalid", str(error)))
            continue
        events.append((event, reference))
    return events, details


def corrections_decode(
    items: list[msgspec.Raw],
) -> tuple[list[CorrectionInput], list[dict[str, Any]]]:
    corrections: list[CorrectionInput] = []
    details: list[dict[str, Any]] = []
    for index, raw in enumerate(items):
        try:
            correction = _correction_decoder.decode(raw)
        except msgspec.DecodeError as error:
            details.append(_detail(index, _param_of(error), "invalid", str(error)))
            continue
        text_field = _with_nul(correction, ("id", "reason"))
        if text_field:
            details.append(_detail(index, text_field, "invalid", "A NUL character."))
            continue
        corrections.append(correction)
    return corrections, details
