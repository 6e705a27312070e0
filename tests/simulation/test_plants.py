"""The simulation finds bugs planted on purpose (tests/simulation/plants.py).

Each test plants one bug with a monkeypatch (in this process, and through the
worker's environment in the Celery worker), runs a short scripted simulation that
gives the bug its chance, and expects the simulation to fail on the invariant that
bug breaks. The same scripts pass without the plant (the last test).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest

from licensing.models import License
from licensing.services.purchases import license_purchase
from payouts.stripe import gateway
from tests.simulation import faults
from tests.simulation.plants import PLANTS
from tests.simulation.prologue import step_fund_payouts
from tests.simulation.sim import SimulationFailed
from tests.simulation.steps import _post, step_payout_batch, step_royalty_run
from tests.simulation.world import DeclaredEvent, World, month_start

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.worker]

SEED = 7


def buy_everything_by_card(world: World, runtime: Any, check: Any) -> str:
    """The card organisation buys every flat offer: cash at Stripe, money on payables."""
    for offer in world.flat_offers:
        license_purchase(organization=world.card_org, offer_id=offer.public_id, work_ids=None)
    world.model.purchases.update(
        {
            f"everything:{lic.public_id}": lic.public_id
            for lic in License.objects.filter(
                organization=world.card_org, offer_version__pricing="flat"
            )
        }
    )
    return "bought every flat offer by card"


def fund_the_stripe_balance(world: World, runtime: Any, check: Any) -> str:
    """Money enough at Stripe for a transfer made twice: the bug then shows as money."""
    gateway.topup_create(amount=500_000, currency="eur", idempotency_key=f"s{world.seed}-fund")
    world.model.topups_minor += 500_000
    return "topped up 5,000.00"


def payout_with_slow_transfers(world: World, runtime: Any, check: Any) -> str:
    """Every transfer is slower than the worker's timeout: its outcome is unknown."""
    original = faults.arm_stripe_faults

    def slow_only(world: World, control: Any, path: str, *, most: int) -> list[str]:
        control.arm_fault(path, "slow", method="POST", count=8, delay_ms=faults.SLOW_MS)
        world.slow_armed = True
        return ["slow x8"]

    faults.arm_stripe_faults = slow_only
    try:
        world.rng.seed(0)  # dispatch once, no kill: the timeouts alone
        note = step_payout_batch(world, runtime, check)
        return note
    finally:
        faults.arm_stripe_faults = original


def usage_sent_twice(world: World, runtime: Any, check: Any) -> str:
    """A licensee's batch is sent twice (a retry after a lost answer)."""
    license = next(lic for lic in world.rated_licenses if lic.offer_version.pricing == "per_unit")
    organization = license.organization
    occurred_at = month_start(world.periods[0]).replace(day=15)
    events = [
        {
            "id": f"twice-{index}",
            "license": license.public_id,
            "work": license.works.first().public_id,
            "units": 1_000 + index,
            "unit": "token",
            "occurred_at": occurred_at.isoformat().replace("+00:00", "Z"),
        }
        for index in range(3)
    ]
    client = world.clients[organization.pk]
    for _ in range(2):
        answer = _post(client, "/api/v1/usage", {"events": events})
        assert answer.status_code in (200, 201, 202), answer.json()
    for body in events:
        world.model.events[(organization.pk, body["id"])] = _declared(license, body)
    return "usage sent twice"


def _declared(license: Any, body: dict) -> DeclaredEvent:
    work = license.works.get(public_id=body["work"])
    occurred_at = dt.datetime.fromisoformat(body["occurred_at"].replace("Z", "+00:00"))
    return DeclaredEvent(
        license.organization_id, body["id"], license.pk, work.pk, body["units"], occurred_at, False
    )


def pool_usage_on_both_works(world: World, runtime: Any, check: Any) -> str:
    """Units on both of the pool's works, 3 to 4: its parts do not split into whole micros."""
    pool = next(lic for lic in world.rated_licenses if lic.offer_version.pricing == "pool")
    occurred_at = max(pool.starts_at, month_start(world.periods[0]))
    events = [
        {
            "id": f"pool-{work.pk}",
            "license": pool.public_id,
            "work": work.public_id,
            "units": units,
            "unit": "item",
            "occurred_at": occurred_at.isoformat().replace("+00:00", "Z"),
        }
        for work, units in zip(pool.works.order_by("id"), (3, 4), strict=False)
    ]
    answer = _post(world.clients[pool.organization_id], "/api/v1/usage", {"events": events})
    assert answer.status_code in (200, 201, 202), answer.json()
    for body in events:
        world.model.events[(pool.organization_id, body["id"])] = _declared(pool, body)
    return "pool usage 3:4"


def run_every_month(world: World, runtime: Any, check: Any) -> str:
    notes = []
    for _ in world.periods:
        world.rng.seed(1)  # in order, no recompute, no kill
        notes.append(step_royalty_run(world, runtime, check))
    return "; ".join(notes)


def usage_for_the_lead_in_the_first_month(world: World, runtime: Any, check: Any) -> str:
    """10^8 tokens on the first per-unit license: the lead creator is owed a payout."""
    license = next(lic for lic in world.rated_licenses if lic.offer_version.pricing == "per_unit")
    occurred_at = month_start(world.periods[0]).replace(day=10)
    body = {
        "id": "lead-1",
        "license": license.public_id,
        "work": license.works.first().public_id,
        "units": 10**8,
        "unit": "token",
        "occurred_at": occurred_at.isoformat().replace("+00:00", "Z"),
    }
    answer = _post(world.clients[license.organization_id], "/api/v1/usage", {"events": [body]})
    assert answer.status_code in (200, 201, 202), answer.json()
    world.model.events[(license.organization_id, body["id"])] = _declared(license, body)
    return "usage 10^8 tokens"


def run_the_first_month(world: World, runtime: Any, check: Any) -> str:
    world.rng.seed(1)  # no recompute, no kill
    return step_royalty_run(world, runtime, check, period=world.periods[0])


class _Scripted(random.Random):
    """The added choices (`rng_added`) as scripted: a late debit, before the dispatch
    (not racing it), then no to everything (no declining card)."""

    def __init__(self, *values: float) -> None:
        super().__init__(0)
        self.values = list(values)

    def random(self) -> float:
        return self.values.pop(0) if self.values else 0.99


def payout_after_a_late_debit(world: World, runtime: Any, check: Any) -> str:
    """Draft, then the first month recounted down and the next run posted, then dispatch."""
    world.rng_added = _Scripted(0.0, 0.9)
    world.rng.seed(0)
    return step_payout_batch(world, runtime, check)


SCRIPTS = {
    "payout_key_from_attempt": (
        [buy_everything_by_card, fund_the_stripe_balance, payout_with_slow_transfers],
        "more than one transfer",
    ),
    "usage_dedup_dropped": ([usage_sent_twice], "keys, declared"),
    "payout_claim_unchecked": (
        [
            usage_for_the_lead_in_the_first_month,
            run_the_first_month,
            step_fund_payouts,
            payout_after_a_late_debit,
        ],
        "took a payable into debit",
    ),
    "rounding_loses_a_micro": ([pool_usage_on_both_works, run_every_month], "AssertionError"),
}


@pytest.mark.parametrize("plant", sorted(SCRIPTS))
def test_the_simulation_finds_the_planted_bug(
    plant: str, simulation: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    script, symptom = SCRIPTS[plant]
    PLANTS[plant](monkeypatch)

    with pytest.raises(SimulationFailed) as failure:
        simulation(seed=SEED, steps=0, plant=plant, script=script)

    assert symptom in str(failure.value)
    assert f"--seed {SEED}" in str(failure.value), "a failing seed prints how to replay it"


def test_the_same_scripts_pass_without_a_plant(simulation: Any) -> None:
    script = [step for steps, _ in SCRIPTS.values() for step in steps]

    report = simulation(seed=SEED, steps=0, script=script)

    assert len(report.steps) == len(script) + 1
