"""Fixtures of the simulation: one call runs a seed against the real services.

The sandbox delivers webhooks to the live server's `/stripe/webhook` (pytest-django's
`live_server`, in this process), which queues their processing for the worker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.simulation.sim import Report, simulate


@pytest.fixture
def simulation(
    stripe_sandbox_control: Any, stripe_sandbox: str, live_server: Any, stripe_sandbox_settings: Any
) -> Callable[..., Report]:
    def run(**options: Any) -> Report:
        return simulate(
            control=stripe_sandbox_control,
            sandbox_url=stripe_sandbox,
            webhook_url=f"{live_server.url}/stripe/webhook",
            **options,
        )

    return run
