"""The loop: build a seed's world, then step, wait until at rest, check, repeat.

A failure raises `SimulationFailed` naming the seed, the step and everything done
before it, with the command that replays it (`pytest tests/simulation --seed N`).
"""

from __future__ import annotations

import sys
import time
import traceback
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from tests.simulation import invariants
from tests.simulation.faults import SLOW_MS
from tests.simulation.prologue import loop_coverage, step_at
from tests.simulation.runtime import Runtime
from tests.simulation.steps import Step
from tests.simulation.world import World, world_build


class SimulationFailed(AssertionError):
    pass


@dataclass
class Report:
    seed: int
    steps: list[str]
    kills: int
    seconds: float
    coverage: dict[str, int]


def _faults_clear(sandbox_url: str) -> None:
    """Disarm the Stripe faults no request took, so the checks' own reads are not hit."""
    request = urllib.request.Request(f"{sandbox_url}/_sandbox/faults", method="DELETE")
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200


def _at_rest_and_checked(world: World, runtime: Runtime) -> None:
    runtime.wait_at_rest()
    if world.slow_armed:
        # A slow request's work lands after its caller gave up: let it land, then look.
        time.sleep(SLOW_MS / 1000 + 0.5)
        runtime.wait_at_rest()
        world.slow_armed = False
    _faults_clear(runtime.sandbox_url)
    invariants.all_checks(world, runtime)


def simulate(
    *,
    seed: int,
    steps: int,
    control: Any,
    sandbox_url: str,
    webhook_url: str,
    plant: str | None = None,
    script: Sequence[Step] | None = None,
) -> Report:
    """Run `steps` seeded steps (or the `script`) with every invariant after each."""
    started = time.monotonic()
    control.add_webhook_endpoint(webhook_url)
    runtime = Runtime(sandbox_url=sandbox_url, control=control, plant=plant)
    done: list[str] = []
    world = None
    try:
        runtime.worker_start()
        world = world_build(seed, control, now=timezone.now())
        done.append("world built")
        _at_rest_and_checked(world, runtime)
        count = len(script) if script is not None else steps
        for index in range(count):
            step = script[index] if script is not None else step_at(world, index)
            done.append(f"{index + 1}. {step.__name__}")
            began = time.monotonic()
            note = step(world, runtime, lambda where: invariants.ledger_checks())
            done[-1] = f"{index + 1}. {note}"
            _at_rest_and_checked(world, runtime)
            done[-1] += f" [{time.monotonic() - began:.0f}s]"  # the step, its rest, its checks
    except Exception as error:
        log = "\n  ".join(done)
        replay = f"pytest tests/simulation --seed {seed}"
        if plant:
            replay += f" (with the plant {plant})"
        message = (
            f"simulation seed {seed} failed at step {len(done) - 1}: {error}\n"
            f"  {log}\nreplay: {replay}\n"
        )
        print(message, file=sys.stderr)
        traceback.print_exc()
        raise SimulationFailed(message) from error
    finally:
        runtime.stop()
    return Report(seed, done, runtime.kills, time.monotonic() - started, loop_coverage(world))
