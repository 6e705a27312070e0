"""The HTTP front: authentication, faults, idempotency, then the route's handler.

A stdlib `ThreadingHTTPServer` (one thread per connection, HTTP/1.1 keep-alive as
the SDK expects). The order of the steps for a /v1 request is the point:
0. find the route (Stripe's 404/405 otherwise), count it, and apply the optional
   rate limit (Stripe's 429 `rate_limit`, before any work);
1. authenticate (any `sk_test_` key; anything else is Stripe's 401);
2. decode the form parameters;
3. apply an armed fault (`status`/`drop` answer before any work is done);
4. claim the idempotency key (replay, mismatch or in-use answer without work);
5. run the handler under the store lock; keep the response for the key;
6. answer - unless the fault is `drop_after`, which loses the answer after the work.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from stripe_sandbox import auth, control, errors, forms, idempotency, onboarding, routes
from stripe_sandbox.errors import StripeError, invalid_request
from stripe_sandbox.faults import Fault
from stripe_sandbox.listing import expand, expand_paths
from stripe_sandbox.ratelimit import RateLimiter
from stripe_sandbox.request import ApiRequest
from stripe_sandbox.sandbox import Sandbox
from stripe_sandbox.store import DEFAULT_API_VERSION, RequestContext, new_id
from stripe_sandbox.webhooks import ATTEMPTS_DEFAULT, WebhookDispatcher

logger = logging.getLogger("stripe_sandbox")

BODY_BYTES_MAX = 1_000_000


@dataclass(frozen=True)
class _Answer:
    status: int
    body: bytes
    stored: bool  # keep it for the idempotency key
    headers: tuple[tuple[str, str], ...] = ()


def _json_answer(error: StripeError, headers: tuple[tuple[str, str], ...] = ()) -> _Answer:
    return _Answer(
        error.status, (json.dumps(error.body(), indent=2) + "\n").encode(), False, headers
    )


class _Handler(BaseHTTPRequestHandler):
    server: SandboxServer
    protocol_version = "HTTP/1.1"
    server_version = "stripe-sandbox"
    # Headers and body go out in two writes; without this, Nagle's algorithm meets the
    # client's delayed ACK and every keep-alive request waits ~40 ms.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    # -- plumbing ----------------------------------------------------------------

    def _read_body(self) -> bytes | None:
        """Return the request body, or None when it is too large or its length unreadable."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None
        if not 0 <= length <= BODY_BYTES_MAX:
            return None
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes, headers: dict[str, str], content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_json(
        self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        body = (json.dumps(payload, indent=2) + "\n").encode()
        self._send(status, body, headers or {}, "application/json")

    def _drop(self) -> None:
        """Close the connection without answering."""
        self.close_connection = True

    def _handle(self, method: str) -> None:
        split = urlsplit(self.path)
        body = self._read_body()
        if body is None:
            self.close_connection = True
            self._send_json(413, invalid_request("Request body too large or unreadable.").body())
            return
        if split.path.startswith(onboarding.PATH_PREFIX):
            self._onboarding(method, split.path[len(onboarding.PATH_PREFIX) :], body)
        elif split.path.startswith("/_sandbox/"):
            status, payload = control.handle(self.server.sandbox, method, split.path, body)
            self._send_json(status, payload)
        else:
            self._api(method, split.path, split.query, body)

    def _onboarding(self, method: str, token: str, body: bytes) -> None:
        store = self.server.sandbox.store
        if method == "GET":
            page = onboarding.show(store, token)
        elif method == "POST":
            page = onboarding.submit(store, token, body.decode(errors="replace"))
        else:
            page = onboarding.Page(405, "Method not allowed")
        headers = {"Location": page.location} if page.location else {}
        self._send(page.status, page.body.encode(), headers, "text/html; charset=utf-8")

    # -- the API -----------------------------------------------------------------

    def _api(self, method: str, path: str, query: str, body: bytes) -> None:
        sandbox = self.server.sandbox
        request_id = new_id("req")
        version = self.headers.get("Stripe-Version") or DEFAULT_API_VERSION
        headers = {"Request-Id": request_id, "Stripe-Version": version}
        key = self.headers.get("Idempotency-Key") if method == "POST" else None
        if key:
            headers["Idempotency-Key"] = key
        try:
            handler, path_params, route = routes.resolve(method, path)
        except StripeError as error:
            sandbox.stats.count(routes.UNROUTED)
            self._send_json(error.status, error.body(), headers)
            return
        if not sandbox.limiter.admit(method):
            sandbox.stats.count(route, rate_limited=True)
            self._send_json(429, errors.rate_limit().body(), headers)
            return
        sandbox.stats.count(route)
        try:
            api_key = auth.api_key(self.headers.get("Authorization"))
            try:
                params = forms.decode(body.decode() if method == "POST" else query)
            except ValueError as problem:  # FormError, bad UTF-8, too many fields
                raise invalid_request(str(problem)) from problem
            if key is not None and len(key) > idempotency.KEY_CHARS_MAX:
                raise invalid_request(
                    f"Idempotency-Key must be at most {idempotency.KEY_CHARS_MAX} characters.",
                    param="idempotency_key",
                )
        except StripeError as error:
            self._send_json(error.status, error.body(), headers)
            return
        fault = sandbox.faults.take(method, path)
        if fault is not None and fault.mode == "drop":
            self._drop()
            return
        if fault is not None and fault.mode == "status":
            self._send_json(fault.status, errors.injected(fault.status).body(), headers)
            return
        stripe_account = self.headers.get("Stripe-Account") or None
        request = ApiRequest(
            method=method,
            path=path,
            params=params,
            path_params=path_params,
            store=sandbox.store,
            context=RequestContext(request_id, key, version),
            stripe_account=stripe_account,
            base_url=f"http://{self.headers.get('Host') or self.server.url.removeprefix('http://')}",
        )
        answer = self._run_once(request, handler, api_key, fault)
        if fault is not None and fault.mode == "drop_after":
            self._drop()  # the work (or the replay) is done; the answer is lost
            return
        self._send(answer.status, answer.body, headers | dict(answer.headers), "application/json")

    def _run_once(
        self,
        request: ApiRequest,
        handler: routes.Handler,
        api_key: str,
        fault: Fault | None,
    ) -> _Answer:
        """Run the handler at most once per idempotency key, or say why it did not run."""
        keys = self.server.sandbox.keys
        key = request.context.idempotency_key
        if key is None:
            return self._run(request, handler, fault)
        fingerprint = idempotency.fingerprint(
            request.method, request.path, request.stripe_account, request.params
        )
        outcome = keys.begin(api_key, key, fingerprint)
        if isinstance(outcome, idempotency.Replay):
            replayed = (
                ("Idempotent-Replayed", "true"),
                ("Original-Request", outcome.response.request_id),
            )
            return _Answer(outcome.response.status, outcome.response.body, False, replayed)
        if isinstance(outcome, idempotency.Mismatch):
            return _json_answer(errors.idempotency_key_mismatch(key))
        if isinstance(outcome, idempotency.InUse):
            return _json_answer(errors.idempotency_key_in_use(key))
        answer: _Answer | None = None
        try:
            answer = self._run(request, handler, fault)
        finally:
            stored = None
            if answer is not None and answer.stored:
                stored = idempotency.StoredResponse(
                    answer.status, answer.body, request.context.request_id or ""
                )
            keys.finish(api_key, key, stored)
        assert answer is not None
        return answer

    def _run(self, request: ApiRequest, handler: routes.Handler, fault: Fault | None) -> _Answer:
        """Run the handler under the store lock and render its answer."""
        if fault is not None and fault.mode == "slow":
            time.sleep(fault.delay_ms / 1000)  # outside the lock: other requests go on
        store = request.store
        with store.lock:
            try:
                if request.stripe_account is not None:
                    self._check_connected_account(request, handler)
                paths = expand_paths(request.params)
                payload = handler(request)
                try:
                    if paths:  # expanding rewrites the answer: never the stored object
                        payload = expand(store, copy.deepcopy(payload), paths)
                except StripeError as error:
                    error.stored = True  # the work is done: a retry must replay, not redo it
                    raise
                status, stored = 200, True
            except StripeError as error:
                payload, status, stored = error.body(), error.status, error.stored
            except Exception:
                logger.exception("sandbox handler failed for %s %s", request.method, request.path)
                payload = StripeError(
                    500, "api_error", "The Stripe sandbox failed; see its log."
                ).body()
                status, stored = 500, False
            # Rendered under the lock: `payload` may be a stored object another request changes.
            body = (json.dumps(payload, indent=2) + "\n").encode()
        return _Answer(status, body, stored)

    @staticmethod
    def _check_connected_account(request: ApiRequest, handler: routes.Handler) -> None:
        account_id = request.stripe_account
        assert account_id is not None
        if request.store.get(account_id, "account") is None:
            raise StripeError(
                403,
                "invalid_request_error",
                f"The provided key does not have access to account '{account_id}' "
                "(or that account does not exist).",
                code="account_invalid",
            )
        if handler not in routes.CONNECTED_ACCOUNT_HANDLERS:
            raise invalid_request(
                "The Stripe sandbox supports the Stripe-Account header only on balance and "
                "balance transaction reads.",
                param="stripe_account",
                stored=False,
            )


# A handler in a deliberately slow fault may take this long to notice its connection end.
CONNECTIONS_CLOSE_SECONDS = 5.0


class SandboxServer(ThreadingHTTPServer):
    """A threaded HTTP server bound to one `Sandbox`."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], sandbox: Sandbox) -> None:
        super().__init__(address, _Handler)
        self.sandbox = sandbox
        # Connections being served; a kept-alive one holds its thread until it closes.
        self._connections: set[socket.socket] = set()
        self._connections_changed = threading.Condition()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_changed:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)
        with self._connections_changed:
            self._connections.discard(request)
            self._connections_changed.notify_all()

    def connections_close(self, timeout_seconds: float = CONNECTIONS_CLOSE_SECONDS) -> None:
        """End every kept-alive connection and wait (bounded) for its thread to finish.

        A client that keeps its connection open (the Stripe SDK does) would otherwise
        hold a handler thread, blocked reading its next request, past the server's end.
        """
        with self._connections_changed:
            open_now = list(self._connections)
        for connection in open_now:
            with contextlib.suppress(OSError):  # closed by its client meanwhile
                connection.shutdown(socket.SHUT_RDWR)
        with self._connections_changed:
            self._connections_changed.wait_for(lambda: not self._connections, timeout_seconds)

    @property
    def url(self) -> str:
        """Return the base URL to give `stripe.api_base`."""
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


@dataclass
class RunningSandbox:
    """A sandbox serving from a background thread (tests, the demo)."""

    server: SandboxServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        """Return the base URL."""
        return self.server.url

    @property
    def sandbox(self) -> Sandbox:
        """Return the served sandbox."""
        return self.server.sandbox

    def stop(self) -> None:
        """Stop webhook delivery, then serving; return once both threads are gone."""
        # Delivery first: no attempt is left running (and logging) after the server went.
        self.server.sandbox.close()
        self.server.shutdown()
        self.server.connections_close()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve_in_thread(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    webhook_retry_delay_seconds: float = 1.0,
    webhook_attempts_max: int = ATTEMPTS_DEFAULT,
    rate_limit_per_second: int | None = None,
) -> RunningSandbox:
    """Start a sandbox on `host:port` (0 = any free port) in a daemon thread.

    `rate_limit_per_second` answers 429 above that many reads (and as many writes) a
    second, as Stripe's test mode does at 25; None (the default) sets no limit.
    """
    dispatcher = WebhookDispatcher(
        retry_delay_seconds=webhook_retry_delay_seconds, attempts_max=webhook_attempts_max
    )
    limiter = RateLimiter(rate_limit_per_second)
    server = SandboxServer((host, port), Sandbox(webhooks=dispatcher, limiter=limiter))
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="stripe-sandbox", daemon=True
    )
    thread.start()
    return RunningSandbox(server, thread)
