"""An optional request-rate limit, answered as Stripe's test mode answers it.

Stripe limits test mode to 25 read and 25 write operations a second and answers a
request above that with 429 `rate_limit`. Off by default (the sandbox's own tests and
the demo should not trip it); on (`--rate-limit 25`, or the control API) it lets a
payout bench show that a dispatcher stays under the limit, and what happens to one
that does not. Reads (GET) and writes (POST, DELETE) are counted apart, each over a
sliding one-second window; a refused request does not count, so a client that backs
off is served again as soon as the window has room.

`RequestStats` counts every /v1 request by route and how many the limit refused:
what a bench reads to report Stripe requests per payout item.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from typing import Any

PER_SECOND_MAX = 100_000
WINDOW_SECONDS = 1.0


class RateLimiter:
    """Sliding one-second windows of admitted reads and writes; thread-safe."""

    def __init__(
        self, per_second: int | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.clock = clock  # a test may drive the windows with its own
        self._lock = threading.Lock()
        self._windows: dict[str, collections.deque[float]] = {
            "read": collections.deque(),
            "write": collections.deque(),
        }
        self.default = per_second
        self.per_second = per_second

    def set(self, per_second: int | None) -> None:
        """Limit to `per_second` reads and as many writes a second; None lifts the limit."""
        if per_second is not None and not 1 <= per_second <= PER_SECOND_MAX:
            raise ValueError(f"per_second must be from 1 to {PER_SECOND_MAX}, or null")
        with self._lock:
            self.per_second = per_second
            for window in self._windows.values():
                window.clear()

    def reset(self) -> None:
        """Return to the limit given at start (the command line's), with empty windows."""
        self.set(self.default)

    def admit(self, method: str) -> bool:
        """Count a request and say True, or say False when it is over the limit."""
        if self.per_second is None:
            return True
        now = self.clock()
        with self._lock:
            limit = self.per_second
            if limit is None:
                return True
            window = self._windows["read" if method == "GET" else "write"]
            while window and window[0] <= now - WINDOW_SECONDS:
                window.popleft()
            if len(window) >= limit:
                return False
            window.append(now)
            return True

    def describe(self) -> dict[str, Any]:
        """Return the limit as the control API shows it."""
        return {"per_second": self.per_second, "window_seconds": WINDOW_SECONDS}


class RequestStats:
    """How many /v1 requests arrived, by route, and how many the rate limit refused."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_route: collections.Counter[str] = collections.Counter()
        self._rate_limited = 0

    def count(self, route: str, *, rate_limited: bool = False) -> None:
        """Count one request to `route` (`POST /v1/transfers`)."""
        with self._lock:
            self._by_route[route] += 1
            self._rate_limited += int(rate_limited)

    def describe(self) -> dict[str, Any]:
        """Return the counts."""
        with self._lock:
            return {
                "requests": sum(self._by_route.values()),
                "rate_limited": self._rate_limited,
                "by_route": dict(sorted(self._by_route.items())),
            }

    def reset(self) -> None:
        """Start counting from zero."""
        with self._lock:
            self._by_route.clear()
            self._rate_limited = 0
