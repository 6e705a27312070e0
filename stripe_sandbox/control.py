"""The sandbox-only control API under /_sandbox/ (JSON in, JSON out, no API key).

Tests and the demo use it to start from a clean slate, say where webhooks go, and
arm faults. It lives outside /v1 so nothing Accord's code calls through the SDK
can reach it by accident.
"""

from __future__ import annotations

import json
from typing import Any

from stripe_sandbox import faults
from stripe_sandbox.sandbox import Sandbox
from stripe_sandbox.webhooks import Endpoint

JsonAnswer = tuple[int, dict[str, Any]]


def _error(message: str, status: int = 400) -> JsonAnswer:
    return status, {"error": {"type": "sandbox_error", "message": message}}


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def handle(sandbox: Sandbox, method: str, path: str, body: bytes) -> JsonAnswer:
    """Answer one control request."""
    route = (method, path.rstrip("/"))
    if route == ("GET", "/_sandbox/health"):
        return 200, {"ok": True}
    if route == ("POST", "/_sandbox/reset"):
        sandbox.reset()
        return 200, {"reset": True}
    if route == ("GET", "/_sandbox/faults"):
        return 200, {"faults": sandbox.faults.describe()}
    if route == ("DELETE", "/_sandbox/faults"):
        sandbox.faults.reset()
        return 200, {"faults": []}
    spec = _json_object(body)
    if route[0] == "POST" and spec is None:
        return _error("body must be a JSON object")
    assert spec is not None or route[0] != "POST"
    if route == ("POST", "/_sandbox/faults"):
        try:
            fault = faults.parse(spec or {})
            sandbox.faults.add(fault)
        except faults.FaultSpecError as problem:
            return _error(str(problem))
        return 200, {"armed": fault.describe(), "faults": sandbox.faults.describe()}
    if route == ("POST", "/_sandbox/webhook_endpoints"):
        url, secret = (spec or {}).get("url"), (spec or {}).get("secret")
        if not isinstance(url, str) or not isinstance(secret, str):
            return _error("url and secret must be strings")
        try:
            sandbox.webhooks.add_endpoint(Endpoint(url=url, secret=secret))
        except ValueError as problem:
            return _error(str(problem))
        return 200, {"url": url, "endpoints": sandbox.webhooks.endpoint_count()}
    return _error(f"no sandbox control endpoint {method} {path}", status=404)
