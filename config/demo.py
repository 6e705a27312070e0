"""What every app's demo loader returns, shared without an upward import.

Each app contributes an idempotent loader returning the logins it created
(`DemoLogin`, with the one demo password); `payouts.demo` lists the loaders in
dependency order and runs them. The types live here, in `config`, because every app
may import `config` and `config` imports no app: `licensing.demo` no longer reaches
up into `payouts` for them.
"""

from __future__ import annotations

from dataclasses import dataclass

DEMO_PASSWORD = "accord-demo"


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    password: str | None = None
    api_key: str | None = None
