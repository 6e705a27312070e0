"""The event log: GET /v1/events and /v1/events/{id}.

Events are what reconciliation and a missed-webhook backfill read, so the log keeps
every event the sandbox sent, newest first, filterable by type (`transfer.*` style
wildcards too, as Stripe allows), by `created`, and by `delivery_success` (an event is
delivered once every endpoint has answered it 2xx: `pending_webhooks` is 0).
"""

from __future__ import annotations

import fnmatch
from typing import Any

from stripe_sandbox import params as p
from stripe_sandbox.errors import resource_missing
from stripe_sandbox.listing import LIST_PARAMS, paginate, range_filter
from stripe_sandbox.request import ApiRequest


def event_list(request: ApiRequest) -> dict[str, Any]:
    """GET /v1/events, filtered by `type` or `types[]`, `created` and `delivery_success`."""
    params = request.params
    p.only(params, LIST_PARAMS | {"type", "types", "created", "delivery_success"})
    patterns = p.string_list(params, "types")
    single = p.string(params, "type")
    if single is not None:
        patterns.append(single)
    items = range_filter(request.store.all("event"), params, "created")
    if "delivery_success" in params:
        # Stripe: true = delivered to every endpoint; false = still pending somewhere.
        delivered = p.boolean(params, "delivery_success")
        items = [item for item in items if (item["pending_webhooks"] == 0) == delivered]
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
