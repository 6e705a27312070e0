"""The event log: GET /v1/events and /v1/events/{id}.

Events are what reconciliation and a missed-webhook backfill read, so the log keeps
every event the sandbox sent, newest first, filterable by type (`transfer.*` style
wildcards too, as Stripe allows).
"""

from __future__ import annotations

import fnmatch
from typing import Any

from stripe_sandbox import params as p
from stripe_sandbox.errors import resource_missing
from stripe_sandbox.listing import LIST_PARAMS, paginate
from stripe_sandbox.request import ApiRequest


def event_list(request: ApiRequest) -> dict[str, Any]:
    """GET /v1/events, filtered by `type` or `types[]`."""
    params = request.params
    p.only(params, LIST_PARAMS | {"type", "types", "created", "delivery_success"})
    patterns = p.string_list(params, "types")
    single = p.string(params, "type")
    if single is not None:
        patterns.append(single)
    items = request.store.all("event")
    if patterns:
        items = [
            item
            for item in items
            if any(fnmatch.fnmatchcase(item["type"], pattern) for pattern in patterns)
        ]
    return paginate(items, params, "/v1/events", "event")


def event_retrieve(request: ApiRequest) -> dict[str, Any]:
    """GET /v1/events/{id}."""
    p.only(request.params, ())
    event = request.store.get(request.path_params["id"], "event")
    if event is None:
        raise resource_missing("event", request.path_params["id"])
    return event
