"""A tiny local webhook receiver for the sandbox tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe

from tests.fixtures.stripe_sandbox import SandboxControl


@dataclass(frozen=True)
class Delivery:
    """One POST the receiver got."""

    body: bytes
    signature: str


@dataclass
class WebhookReceiver:
    """Records deliveries; answers each with the next scripted status (then 200)."""

    url: str = ""
    statuses: list[int] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    condition: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout_seconds: float = 5.0) -> list[Delivery]:
        """Block until `count` deliveries arrived, and return them all."""
        with self.condition:
            arrived = self.condition.wait_for(
                lambda: len(self.deliveries) >= count, timeout=timeout_seconds
            )
            assert arrived, f"expected {count} deliveries, got {len(self.deliveries)}"
            return list(self.deliveries)

    def events(self, count: int, secret: str) -> list[stripe.Event]:
        """Wait for `count` deliveries and verify each as Accord would."""
        return [
            stripe.Webhook.construct_event(delivery.body, delivery.signature, secret)
            for delivery in self.wait_for(count)
        ]


def _handler_for(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with receiver.condition:
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                receiver.deliveries.append(Delivery(body, self.headers["Stripe-Signature"]))
                receiver.condition.notify_all()
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

    return Handler


@pytest.fixture
def webhook_receiver(stripe_sandbox_control: SandboxControl) -> Iterator[WebhookReceiver]:
    """Start a receiver on a free port and register it with the sandbox."""
    receiver = WebhookReceiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(receiver))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/stripe/webhook"
    stripe_sandbox_control.add_webhook_endpoint(receiver.url)
    yield receiver
    server.shutdown()
    server.server_close()
