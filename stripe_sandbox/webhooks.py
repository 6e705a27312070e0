"""Webhook delivery, signed exactly as Stripe signs it.

Each event is POSTed as JSON to every configured endpoint with the header
`Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed by the
endpoint secret>`, so `stripe.Webhook.construct_event(body, header, secret)` accepts
it. The signature is made afresh at each attempt, as Stripe does, so a late retry
still passes the receiver's timestamp tolerance.

Delivery runs on one background thread, never on the request thread: an API call
answers without waiting for receivers, as on Stripe. A non-2xx answer (or no
answer) is retried with exponential backoff up to `attempts_max` times; Stripe
retries for three days, the sandbox compresses that to seconds. Because retries
are scheduled, not slept on, an endpoint that answers non-2xx does not hold back
other deliveries - and events can arrive out of order, as they can from Stripe.
(An endpoint that does not answer at all holds the thread for the 5 s timeout.)
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import http.client
import itertools
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

logger = logging.getLogger("stripe_sandbox.webhooks")

ENDPOINTS_MAX = 20
QUEUE_MAX = 100_000
DELIVERY_TIMEOUT_SECONDS = 5.0
# Eight attempts over about two minutes: long enough for a receiver that starts after
# the sandbox (the demo's web server) to get the events sent before it was up.
ATTEMPTS_DEFAULT = 8
ATTEMPTS_MAX = 20
BACKOFF_SECONDS_MAX = 60.0


def signature_header(payload: bytes, secret: str, timestamp: int) -> str:
    """Return the `Stripe-Signature` header value for a payload."""
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass(frozen=True)
class Endpoint:
    """Where events go and the secret that signs them."""

    url: str
    secret: str
    permanent: bool = False  # given on the command line: survives /_sandbox/reset


@dataclass(order=True)
class _Delivery:
    due: float
    order: int
    event: dict[str, Any] = field(compare=False)
    endpoint: Endpoint = field(compare=False)
    attempt: int = field(compare=False, default=1)
    generation: int = field(compare=False, default=0)


def _post(endpoint: Endpoint, payload: bytes) -> int:
    """POST the payload once and return the HTTP status (0 when there was no answer)."""
    parts = urlsplit(endpoint.url)
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(parts.netloc, timeout=DELIVERY_TIMEOUT_SECONDS)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        "Stripe-Signature": signature_header(payload, endpoint.secret, int(time.time())),
    }
    try:
        connection.request("POST", path, body=payload, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    except OSError as error:
        logger.info("webhook to %s failed: %s", endpoint.url, error)
        return 0
    finally:
        connection.close()


class WebhookDispatcher:
    """Queue of deliveries, worked by one daemon thread."""

    def __init__(
        self, *, retry_delay_seconds: float = 1.0, attempts_max: int = ATTEMPTS_DEFAULT
    ) -> None:
        assert retry_delay_seconds > 0
        assert 1 <= attempts_max <= ATTEMPTS_MAX
        self.retry_delay_seconds = retry_delay_seconds
        self.attempts_max = attempts_max
        self._endpoints: list[Endpoint] = []
        self._queue: list[_Delivery] = []
        self._order = itertools.count()
        self._generation = 0
        self._condition = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(
            target=self._run, name="stripe-sandbox-webhooks", daemon=True
        )
        self._thread.start()

    def add_endpoint(self, endpoint: Endpoint) -> None:
        """Deliver future events to this endpoint too."""
        if not endpoint.url.startswith(("http://", "https://")):
            raise ValueError("url must be an http:// or https:// URL")
        if not endpoint.secret:
            raise ValueError("secret must not be empty")
        with self._condition:
            if len(self._endpoints) >= ENDPOINTS_MAX:
                raise ValueError(f"at most {ENDPOINTS_MAX} webhook endpoints")
            self._endpoints.append(endpoint)

    def endpoint_count(self) -> int:
        """Return how many endpoints each new event goes to."""
        with self._condition:
            return len(self._endpoints)

    def enqueue(self, event: dict[str, Any]) -> None:
        """Schedule an event for delivery to every endpoint (called with the store lock held)."""
        with self._condition:
            for endpoint in self._endpoints:
                if len(self._queue) >= QUEUE_MAX:
                    logger.warning(
                        "webhook queue full; dropping %s for %s", event["id"], endpoint.url
                    )
                    continue
                delivery = _Delivery(
                    time.monotonic(), next(self._order), event, endpoint, 1, self._generation
                )
                heapq.heappush(self._queue, delivery)
            self._condition.notify()

    def reset(self) -> None:
        """Drop pending deliveries and the endpoints not given on the command line."""
        with self._condition:
            self._generation += 1
            self._queue.clear()
            self._endpoints = [endpoint for endpoint in self._endpoints if endpoint.permanent]

    def stop(self) -> None:
        """Stop the delivery thread (pending deliveries are abandoned)."""
        with self._condition:
            self._stopped = True
            self._condition.notify()
        self._thread.join(timeout=DELIVERY_TIMEOUT_SECONDS + 1)

    def _next_due(self) -> _Delivery | None:
        with self._condition:
            while not self._stopped:
                if self._queue and self._queue[0].due <= time.monotonic():
                    return heapq.heappop(self._queue)
                timeout = self._queue[0].due - time.monotonic() if self._queue else None
                self._condition.wait(timeout)
            return None

    def _run(self) -> None:
        while (delivery := self._next_due()) is not None:
            payload = json.dumps(delivery.event, indent=2).encode()
            status = _post(delivery.endpoint, payload)
            if 200 <= status < 300 or delivery.attempt >= self.attempts_max:
                if not 200 <= status < 300:
                    logger.warning(
                        "giving up on %s for %s", delivery.event["id"], delivery.endpoint.url
                    )
                continue
            backoff = min(
                self.retry_delay_seconds * 2 ** (delivery.attempt - 1), BACKOFF_SECONDS_MAX
            )
            with self._condition:
                if delivery.generation != self._generation:
                    continue  # a reset happened during the attempt
                delivery.due = time.monotonic() + backoff
                delivery.order = next(self._order)
                delivery.attempt += 1
                heapq.heappush(self._queue, delivery)
