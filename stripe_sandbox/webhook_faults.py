"""Faults in webhook delivery: events sent twice, late, out of order, or never.

Stripe promises at-least-once delivery in no particular order, so a receiver must
survive each of these; the sandbox makes them happen on demand. A fault applies to
the next `count` events whose type matches `type` (`*` wildcards, as in
`transfer.*`), whatever the number of endpoints:
- `duplicate`: deliver each event `copies` times (default 2), same id and body;
- `delay`: deliver each event `delay_ms` late, so later events overtake it;
- `reorder`: hold `count` events (at least 2), then deliver them newest first;
- `drop`: never deliver the event (it stays in `GET /v1/events`, as a missed
  webhook does, for a backfill to find).
Redelivering a past event is not a fault but a control request
(`POST /_sandbox/webhook_redeliver`).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any

MODES = ("duplicate", "delay", "reorder", "drop")
FAULTS_MAX = 100
COUNT_MAX = 1_000
COPIES_MAX = 10
DELAY_MS_MAX = 120_000


class WebhookFaultSpecError(ValueError):
    """A webhook fault description that cannot be applied."""


@dataclass
class HeldEvent:
    """An event a `reorder` fault keeps back until its group is complete."""

    event_id: str
    event_type: str
    payload: bytes


@dataclass
class WebhookFault:
    """One armed webhook fault and how many more events it will hit."""

    event_type: str
    mode: str
    remaining: int
    delay_ms: int = 0
    copies: int = 2
    held: list[HeldEvent] = field(default_factory=list)

    def matches(self, event_type: str) -> bool:
        """Say whether this fault applies to an event of this type."""
        return fnmatch.fnmatchcase(event_type, self.event_type)

    def describe(self) -> dict[str, Any]:
        """Return the fault as the control API shows it."""
        return {
            "type": self.event_type,
            "mode": self.mode,
            "remaining": self.remaining,
            "delay_ms": self.delay_ms,
            "copies": self.copies,
            "held": [event.event_id for event in self.held],
        }


def _bounded_int(spec: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = spec.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise WebhookFaultSpecError(f"{name} must be an integer from {low} to {high}")
    return value


def parse(spec: dict[str, Any]) -> WebhookFault:
    """Build a webhook fault from the control API's JSON, checking every field."""
    unknown = set(spec) - {"type", "mode", "count", "delay_ms", "copies"}
    if unknown:
        raise WebhookFaultSpecError(f"unknown fields: {', '.join(sorted(unknown))}")
    event_type = spec.get("type", "*")
    if not isinstance(event_type, str) or not event_type:
        raise WebhookFaultSpecError("type must be an event type, `*` wildcards allowed")
    mode = spec.get("mode")
    if mode not in MODES:
        raise WebhookFaultSpecError(f"mode must be one of {', '.join(MODES)}")
    count = _bounded_int(spec, "count", 2 if mode == "reorder" else 1, 1, COUNT_MAX)
    if mode == "reorder" and count < 2:
        raise WebhookFaultSpecError("reorder needs a count of at least 2")
    delay_ms = _bounded_int(spec, "delay_ms", 1_000 if mode == "delay" else 0, 0, DELAY_MS_MAX)
    return WebhookFault(
        event_type=event_type,
        mode=mode,
        remaining=count,
        delay_ms=delay_ms,
        copies=_bounded_int(spec, "copies", 2, 2, COPIES_MAX),
    )
