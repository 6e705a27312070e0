"""The whole money loop under random faults: not one micro created, lost or paid twice.

Each seed builds a world (creators, co-owned works, offers of every pricing model,
card and invoice organisations), then takes seeded steps — purchases, clearances,
usage with duplicates and corrections, royalty runs, payout batches, top-ups,
reversals — with faults injected at Stripe, in the worker and in the client, and
checks every invariant (tests/simulation/invariants.py) after each step.
`pytest tests/simulation --seed N` replays one seed; `make simulate SEEDS=N` runs many.
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.worker]


def test_the_money_loop_keeps_every_micro_under_faults(
    simulation: Any, sim_seed: int, sim_steps: int
) -> None:
    report = simulation(seed=sim_seed, steps=sim_steps)

    print(f"seed {report.seed}: {len(report.steps) - 1} steps clean in {report.seconds:.0f}s")
    print("\n".join(report.steps))
    assert len(report.steps) == sim_steps + 1
