"""The sandbox-only control API under /_sandbox/ (JSON in, JSON out, no API key).

Tests, benches and the demo use it to start from a clean slate, say where webhooks
go, arm faults in the API and in webhook delivery, redeliver an event, set a rate
limit, read request counts, move the clock forward, and turn a connected account's
payouts off or on. It
lives outside /v1 so nothing Accord's code calls through the SDK can reach it by
accident.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from stripe_sandbox import accounts, faults, webhook_faults
from stripe_sandbox.sandbox import Sandbox
from stripe_sandbox.store import CLOCK_ADVANCE_SECONDS_MAX
from stripe_sandbox.webhooks import Endpoint

JsonAnswer = tuple[int, dict[str, Any]]
Spec = dict[str, Any]


def _error(message: str, status: int = 400) -> JsonAnswer:
    return status, {"error": {"type": "sandbox_error", "message": message}}


def _json_object(body: bytes) -> Spec | None:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _reset(sandbox: Sandbox, spec: Spec) -> JsonAnswer:
    sandbox.reset()
    return 200, {"reset": True}


def _fault_add(sandbox: Sandbox, spec: Spec) -> JsonAnswer:
    try:
        fault = faults.parse(spec)
        sandbox.faults.add(fault)
    except faults.FaultSpecError as problem:
        return _error(str(problem))
    return 200, {"armed": fault.describe(), "faults": sandbox.faults.describe()}


def _faults_clear(sandbox: Sandbox, spec: Spec) -> JsonAnswer:
    sandbox.faults.reset()
    return 200, {"faults": []}


def _endpoint_add(sandbox: Sandbox, spec: Spec) -> JsonAnswer:
    url, secret = spec.get("url"), spec.get("secret")
    if not isinstance(url, str) or not isinstance(secret, str):
        return _error("url and secret must be strings")
    try:
        sandbox.webhooks.add_endpoint(Endpoint(url=url, secret=secret))
    except ValueError as problem:
        return _error(str(problem))
    return 200, {"url": url, "endpoints": sandbox.webhooks.endpoint_count()}


def _webhook_fault_add(sandbox: Sandbox, spec: Spec) -> JsonAnswer:
    try:
        fault = webhook_faults.parse(spec)
        sandbox.webhooks.add_fault(fault)
    except webhook_faults.WebhookFaultSpecError as problem:
        return _error(str(problem))
    return 200, {"armed": fault.describe(), "faults": sandbox.webhooks.faults()}


def _webhook_faults_clear(sandbox: Sandbox, spec: Spec) -> JsonAnswer:
    sandbox.webhooks.clear_faults()
    return 200, {"faults": []}


def _redeliver(sandbox: Sandbox, spec: Spec) -> JsonAnswer:
    event_id = spec.get("event")
    if not isinstance(event_id, str):
        return _error("event must be an event id (evt_...)")
    with sandbox.store.lock:
        event = sandbox.store.get(event_id, "event")
        if event is None:
            return _error(f"no such event: {event_id}", status=404)
        snapshot = copy.deepcopy(event)
    return 200, {"event": event_id, "deliveries": sandbox.webhooks.redeliver(snapshot)}


def _rate_limit_set(sandbox: Sandbox, spec: Spec) -> JsonAnswer:
    per_second = spec.get("per_second")
    if isinstance(per_second, bool) or not isinstance(per_second, int | None):
        return _error("per_second must be an integer or null")
    try:
        sandbox.limiter.set(per_second)
    except ValueError as problem:
        return _error(str(problem))
    return 200, sandbox.limiter.describe()


def _account_payouts(sandbox: Sandbox, spec: Spec) -> JsonAnswer:
    account_id, enabled = spec.get("account"), spec.get("enabled")
    if not isinstance(account_id, str) or not isinstance(enabled, bool):
        return _error("account must be an account id and enabled a boolean")
    try:
        account = accounts.payouts_set(sandbox.store, account_id, enabled)
    except ValueError as problem:
        return _error(str(problem))
    if account is None:
        return _error(f"no such account: {account_id}", status=404)
    return 200, account


def _clock(sandbox: Sandbox) -> dict[str, Any]:
    return {"now": sandbox.store.now(), "offset_seconds": sandbox.store.clock_offset_seconds}


def _clock_advance(sandbox: Sandbox, spec: Spec) -> JsonAnswer:
    seconds = spec.get("advance_seconds")
    high = CLOCK_ADVANCE_SECONDS_MAX
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not 0 <= seconds <= high:
        return _error(f"advance_seconds must be an integer from 0 to {high}")
    sandbox.store.advance_clock(seconds)
    return 200, _clock(sandbox)


_ROUTES: dict[tuple[str, str], Callable[[Sandbox, Spec], JsonAnswer]] = {
    ("GET", "/_sandbox/health"): lambda sandbox, spec: (200, {"ok": True}),
    ("POST", "/_sandbox/reset"): _reset,
    ("GET", "/_sandbox/faults"): lambda sandbox, spec: (200, {"faults": sandbox.faults.describe()}),
    ("POST", "/_sandbox/faults"): _fault_add,
    ("DELETE", "/_sandbox/faults"): _faults_clear,
    ("POST", "/_sandbox/webhook_endpoints"): _endpoint_add,
    ("GET", "/_sandbox/webhook_faults"): lambda sandbox, spec: (
        200,
        {"faults": sandbox.webhooks.faults()},
    ),
    ("POST", "/_sandbox/webhook_faults"): _webhook_fault_add,
    ("DELETE", "/_sandbox/webhook_faults"): _webhook_faults_clear,
    ("POST", "/_sandbox/webhook_redeliver"): _redeliver,
    ("GET", "/_sandbox/webhook_deliveries"): lambda sandbox, spec: (
        200,
        {"deliveries": sandbox.webhooks.deliveries()},
    ),
    ("GET", "/_sandbox/rate_limit"): lambda sandbox, spec: (200, sandbox.limiter.describe()),
    ("POST", "/_sandbox/rate_limit"): _rate_limit_set,
    ("GET", "/_sandbox/stats"): lambda sandbox, spec: (200, sandbox.stats.describe()),
    ("POST", "/_sandbox/account_payouts"): _account_payouts,
    ("GET", "/_sandbox/clock"): lambda sandbox, spec: (200, _clock(sandbox)),
    ("POST", "/_sandbox/clock"): _clock_advance,
}


def handle(sandbox: Sandbox, method: str, path: str, body: bytes) -> JsonAnswer:
    """Answer one control request."""
    action = _ROUTES.get((method, path.rstrip("/")))
    if action is None:
        return _error(f"no sandbox control endpoint {method} {path}", status=404)
    spec = _json_object(body) if method == "POST" else {}
    if spec is None:
        return _error("body must be a JSON object")
    return action(sandbox, spec)
