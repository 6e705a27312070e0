"""Injected faults: the failures Accord must survive, on demand.

A fault applies to the next `count` requests whose path matches (exactly, or by
prefix when the pattern ends in `*`), optionally only for one method:
- `status`: answer 500/502/503 (Stripe's `api_error`) or 429 (Stripe's `rate_limit`)
  without doing the work, so a retry is safe and must happen;
- `drop`: close the connection without doing the work;
- `drop_after`: do the work, then close the connection - the caller never learns
  the outcome, the case that makes idempotency keys necessary;
- `slow`: wait `delay_ms` before doing the work and answering (while the request
  holds its idempotency key, so a concurrent retry sees `idempotency_key_in_use`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

MODES = ("status", "drop", "drop_after", "slow")
STATUSES = (429, 500, 502, 503)
FAULTS_MAX = 100
COUNT_MAX = 1_000
DELAY_MS_MAX = 30_000


class FaultSpecError(ValueError):
    """A fault description that cannot be applied."""


@dataclass
class Fault:
    """One armed fault and how many more requests it will hit."""

    path: str
    mode: str
    remaining: int
    status: int = 500
    delay_ms: int = 0
    method: str | None = None

    def matches(self, method: str, path: str) -> bool:
        """Say whether this fault applies to a request."""
        if self.method is not None and self.method != method:
            return False
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path.rstrip("/") == self.path.rstrip("/")

    def describe(self) -> dict[str, Any]:
        """Return the fault as the control API shows it."""
        return {
            "path": self.path,
            "mode": self.mode,
            "remaining": self.remaining,
            "status": self.status,
            "delay_ms": self.delay_ms,
            "method": self.method,
        }


def _bounded_int(spec: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = spec.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise FaultSpecError(f"{name} must be an integer from {low} to {high}")
    return value


def parse(spec: dict[str, Any]) -> Fault:
    """Build a fault from the control API's JSON, checking every field."""
    unknown = set(spec) - {"path", "mode", "count", "status", "delay_ms", "method"}
    if unknown:
        raise FaultSpecError(f"unknown fields: {', '.join(sorted(unknown))}")
    path = spec.get("path")
    if not isinstance(path, str) or not path.startswith("/v1/"):
        raise FaultSpecError("path must be a /v1/... path (end it with * to match a prefix)")
    mode = spec.get("mode")
    if mode not in MODES:
        raise FaultSpecError(f"mode must be one of {', '.join(MODES)}")
    status = _bounded_int(spec, "status", 500, 0, 599)
    if mode == "status" and status not in STATUSES:
        raise FaultSpecError(f"status must be one of {', '.join(map(str, STATUSES))}")
    method = spec.get("method")
    if method is not None and method not in ("GET", "POST", "DELETE"):
        raise FaultSpecError("method must be GET, POST or DELETE")
    return Fault(
        path=path,
        mode=mode,
        remaining=_bounded_int(spec, "count", 1, 1, COUNT_MAX),
        status=status,
        delay_ms=_bounded_int(spec, "delay_ms", 0, 0, DELAY_MS_MAX),
        method=method,
    )


class FaultTable:
    """Armed faults, consumed first-armed first; safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        """Arm a fault."""
        with self._lock:
            if len(self._faults) >= FAULTS_MAX:
                raise FaultSpecError(f"at most {FAULTS_MAX} faults can be armed")
            self._faults.append(fault)

    def take(self, method: str, path: str) -> Fault | None:
        """Return the fault that hits this request (using up one of its count), if any."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
            return None

    def describe(self) -> list[dict[str, Any]]:
        """Return the armed faults."""
        with self._lock:
            return [fault.describe() for fault in self._faults]

    def reset(self) -> None:
        """Disarm every fault."""
        with self._lock:
            self._faults.clear()
