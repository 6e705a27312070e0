"""Command line: `python -m stripe_sandbox --port 12111 [--host H] [--webhook-url U
--webhook-secret S] [--rate-limit N]`.

Serves until SIGINT or SIGTERM, so `make demo` can start and stop it like any process.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from types import FrameType

from stripe_sandbox.ratelimit import PER_SECOND_MAX, RateLimiter
from stripe_sandbox.sandbox import Sandbox
from stripe_sandbox.server import SandboxServer
from stripe_sandbox.webhooks import ATTEMPTS_DEFAULT, ATTEMPTS_MAX, Endpoint, WebhookDispatcher


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m stripe_sandbox",
        description="A local Stripe API sandbox: point the stripe SDK's api_base at it.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=12111, help="port to listen on, 0 for any (default 12111)"
    )
    parser.add_argument("--webhook-url", help="deliver every event to this URL")
    parser.add_argument(
        "--webhook-secret", help="sign deliveries with this endpoint secret (whsec_...)"
    )
    parser.add_argument(
        "--webhook-retry-delay",
        type=float,
        default=1.0,
        help="seconds before the first redelivery (default 1)",
    )
    parser.add_argument(
        "--webhook-attempts",
        type=int,
        default=ATTEMPTS_DEFAULT,
        help=f"tries per event and endpoint, 1 to {ATTEMPTS_MAX} (default {ATTEMPTS_DEFAULT})",
    )
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=None,
        metavar="N",
        help="answer 429 above N reads (and N writes) a second, as Stripe's test mode "
        f"does at 25 (default: no limit; 1 to {PER_SECOND_MAX})",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    arguments = parser.parse_args(argv)
    if bool(arguments.webhook_url) != bool(arguments.webhook_secret):
        parser.error("--webhook-url and --webhook-secret go together")
    if arguments.webhook_retry_delay <= 0:
        parser.error("--webhook-retry-delay must be positive")
    if not 1 <= arguments.webhook_attempts <= ATTEMPTS_MAX:
        parser.error(f"--webhook-attempts must be from 1 to {ATTEMPTS_MAX}")
    if arguments.rate_limit is not None and not 1 <= arguments.rate_limit <= PER_SECOND_MAX:
        parser.error(f"--rate-limit must be from 1 to {PER_SECOND_MAX}")
    return arguments


def main(argv: list[str] | None = None) -> int:
    """Serve until interrupted (SIGINT or SIGTERM)."""
    arguments = _arguments(argv)
    logging.basicConfig(
        level=logging.DEBUG if arguments.verbose else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    dispatcher = WebhookDispatcher(
        retry_delay_seconds=arguments.webhook_retry_delay, attempts_max=arguments.webhook_attempts
    )
    if arguments.webhook_url:
        dispatcher.add_endpoint(
            Endpoint(arguments.webhook_url, arguments.webhook_secret, permanent=True)
        )
    sandbox = Sandbox(webhooks=dispatcher, limiter=RateLimiter(arguments.rate_limit))
    server = SandboxServer((arguments.host, arguments.port), sandbox)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(f"stripe sandbox listening on {server.url}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.connections_close()
        server.server_close()
        server.sandbox.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
