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

Faults in delivery itself (duplicates, delays, reordering, drops; see
`webhook_faults`) and redelivery of a past event are armed through the control API.
Each attempt is logged (the last `DELIVERY_LOG_MAX`), and the first 2xx per event
and endpoint is reported to `on_delivered`, which keeps the event's
`pending_webhooks` as Stripe does.

`stop` ends delivery at once: it aborts the attempt in flight (closing its socket, so
a slow receiver cannot hold it), joins the thread, and nothing is logged after it
returns, so a sandbox stopped at the end of a test run leaves no thread behind that
would log into streams already closed.
"""

from __future__ import annotations

import contextlib
import hashlib
import heapq
import hmac
import http.client
import itertools
import json
import logging
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from stripe_sandbox.webhook_faults import FAULTS_MAX, HeldEvent, WebhookFault, WebhookFaultSpecError

logger = logging.getLogger("stripe_sandbox.webhooks")

ENDPOINTS_MAX = 20
QUEUE_MAX = 100_000
DELIVERY_TIMEOUT_SECONDS = 5.0
# Eight attempts over about two minutes: long enough for a receiver that starts after
# the sandbox (the demo's web server) to get the events sent before it was up.
ATTEMPTS_DEFAULT = 8
ATTEMPTS_MAX = 20
BACKOFF_SECONDS_MAX = 60.0
DELIVERY_LOG_MAX = 10_000


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
    event_id: str = field(compare=False)
    event_type: str = field(compare=False)
    payload: bytes = field(compare=False)  # the event as it was when sent, as Stripe's
    endpoint: Endpoint = field(compare=False)
    attempt: int = field(compare=False, default=1)
    generation: int = field(compare=False, default=0)


def _connection(endpoint: Endpoint) -> http.client.HTTPConnection:
    parts = urlsplit(endpoint.url)
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    return connection_class(parts.netloc, timeout=DELIVERY_TIMEOUT_SECONDS)


def _post(connection: http.client.HTTPConnection, endpoint: Endpoint, payload: bytes) -> int:
    """POST the payload once and return the HTTP status; raise OSError without an answer."""
    parts = urlsplit(endpoint.url)
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
    except http.client.HTTPException as error:  # a garbled answer is no answer
        raise OSError(str(error) or type(error).__name__) from error
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
        # Told (outside the dispatcher's lock) of an event's first 2xx at an endpoint.
        self.on_delivered: Callable[[str], None] = lambda event_id: None
        self._endpoints: list[Endpoint] = []
        self._queue: list[_Delivery] = []
        self._faults: list[WebhookFault] = []
        self._log: deque[dict[str, Any]] = deque(maxlen=DELIVERY_LOG_MAX)
        self._delivered: set[tuple[str, str]] = set()
        self._order = itertools.count()
        self._generation = 0
        self._condition = threading.Condition()
        self._stopped = False
        self._in_flight: http.client.HTTPConnection | None = None
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
        """Schedule a new event for every endpoint, as the armed faults say (store lock held)."""
        with self._condition:
            if not self._endpoints:
                return
            held = HeldEvent(event["id"], event["type"], json.dumps(event, indent=2).encode())
            fault = self._take_fault(event["type"])
            now = time.monotonic()
            if fault is None:
                self._schedule(held, now)
            elif fault.mode == "duplicate":
                for _ in range(fault.copies):
                    self._schedule(held, now)
            elif fault.mode == "delay":
                self._schedule(held, now + fault.delay_ms / 1000)
            elif fault.mode == "reorder":
                fault.held.append(held)
                if fault.remaining == 0:
                    self._release(fault)
            else:
                logger.info("webhook fault: %s %s not delivered", event["type"], event["id"])
            self._condition.notify()

    def redeliver(self, event: dict[str, Any]) -> int:
        """Send a past event again to every endpoint now; return how many deliveries."""
        with self._condition:
            held = HeldEvent(event["id"], event["type"], json.dumps(event, indent=2).encode())
            self._schedule(held, time.monotonic())
            self._condition.notify()
            return len(self._endpoints)

    def add_fault(self, fault: WebhookFault) -> None:
        """Arm a webhook fault (after those already armed)."""
        with self._condition:
            if len(self._faults) >= FAULTS_MAX:
                raise WebhookFaultSpecError(f"at most {FAULTS_MAX} webhook faults can be armed")
            self._faults.append(fault)

    def faults(self) -> list[dict[str, Any]]:
        """Return the armed webhook faults."""
        with self._condition:
            return [fault.describe() for fault in self._faults]

    def clear_faults(self) -> None:
        """Disarm every webhook fault; events a `reorder` holds go out now, newest first."""
        with self._condition:
            for fault in self._faults:
                self._release(fault)
            self._faults.clear()
            self._condition.notify()

    def deliveries(self) -> list[dict[str, Any]]:
        """Return the logged attempts, oldest first."""
        with self._condition:
            return list(self._log)

    def reset(self) -> None:
        """Drop pending deliveries, faults, the log and the endpoints not from the command line."""
        with self._condition:
            self._generation += 1
            self._queue.clear()
            self._faults.clear()
            self._log.clear()
            self._delivered.clear()
            self._endpoints = [endpoint for endpoint in self._endpoints if endpoint.permanent]

    def stop(self) -> None:
        """Stop the delivery thread and wait for it (pending deliveries are abandoned)."""
        with self._condition:
            self._stopped = True
            in_flight = self._in_flight
            self._condition.notify()
        sock = in_flight.sock if in_flight is not None else None
        if sock is not None:
            # Wakes the thread out of a blocked send or receive, which close() would not;
            # an OSError means the attempt ended by itself meanwhile.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        # Bounded: every step of an attempt times out (a connect cannot be aborted).
        self._thread.join(timeout=DELIVERY_TIMEOUT_SECONDS + 1)
        if self._thread.is_alive():
            logger.warning("webhook delivery thread did not stop")

    # -- with the condition held ---------------------------------------------------

    def _take_fault(self, event_type: str) -> WebhookFault | None:
        for fault in self._faults:
            if fault.matches(event_type):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _release(self, fault: WebhookFault) -> None:
        now = time.monotonic()
        for held in reversed(fault.held):
            self._schedule(held, now)
        fault.held.clear()

    def _schedule(self, held: HeldEvent, due: float) -> None:
        for endpoint in self._endpoints:
            if len(self._queue) >= QUEUE_MAX:
                logger.warning(
                    "webhook queue full; dropping %s for %s", held.event_id, endpoint.url
                )
                continue
            delivery = _Delivery(
                due,
                next(self._order),
                held.event_id,
                held.event_type,
                held.payload,
                endpoint,
                1,
                self._generation,
            )
            heapq.heappush(self._queue, delivery)

    # -- the delivery thread -------------------------------------------------------

    def _next_due(self) -> _Delivery | None:
        with self._condition:
            while not self._stopped:
                if self._queue and self._queue[0].due <= time.monotonic():
                    return heapq.heappop(self._queue)
                timeout = self._queue[0].due - time.monotonic() if self._queue else None
                self._condition.wait(timeout)
            return None

    def _attempt(self, delivery: _Delivery) -> int | None:
        """POST the delivery once; its HTTP status, 0 without an answer, None once stopped."""
        connection = _connection(delivery.endpoint)
        with self._condition:
            if self._stopped:
                return None
            self._in_flight = connection
        try:
            status = _post(connection, delivery.endpoint, delivery.payload)
            error = None
        except OSError as failure:
            status, error = 0, failure
        with self._condition:
            self._in_flight = None
            if self._stopped:
                return None  # aborted by `stop`, or finished after it: say nothing more
        if error is not None:
            logger.info("webhook to %s failed: %s", delivery.endpoint.url, error)
        return status

    def _record(self, delivery: _Delivery, status: int) -> None:
        """Count a first success off `pending_webhooks`, then log the attempt.

        In that order, so whoever sees the attempt in the log sees the event's count too.
        """
        key = (delivery.event_id, delivery.endpoint.url)
        with self._condition:
            current = delivery.generation == self._generation
            first = current and 200 <= status < 300 and key not in self._delivered
            if first:
                self._delivered.add(key)
        if first:
            self.on_delivered(delivery.event_id)  # takes the store lock: never under ours
        with self._condition:
            if current:
                self._log.append(
                    {
                        "event": delivery.event_id,
                        "type": delivery.event_type,
                        "endpoint": delivery.endpoint.url,
                        "attempt": delivery.attempt,
                        "status": status,
                    }
                )

    def _run(self) -> None:
        while (delivery := self._next_due()) is not None:
            status = self._attempt(delivery)
            if status is None:
                return
            self._record(delivery, status)
            if 200 <= status < 300:
                continue
            if delivery.attempt >= self.attempts_max:
                logger.warning("giving up on %s for %s", delivery.event_id, delivery.endpoint.url)
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
