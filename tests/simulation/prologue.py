"""The first steps of every seed: the whole money loop once, before the random steps.

A seed of 12 random steps rarely got as far as a posted run and a paid payout, so
CI's simulation could pass while testing only purchases and usage. Every seed now
starts with: a purchase, the first month's usage (two batches), that month's run
posted (issuing its invoices), finance funding the Stripe balance for what is owed,
a payout batch; then it goes on at random. The prologue's steps are the ordinary
steps, faults and all; they count towards the seed's steps. `loop_coverage` counts,
from the tables, how far a seed got; CI's test fails a seed that did not close the
loop (`LOOP_MINIMUM`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from payouts.models import Invoice, PayoutItem, RoyaltyRun
from payouts.stripe import gateway
from tests.simulation import steps
from tests.simulation.invariants import EUR, balances_by_name
from tests.simulation.steps import Step
from tests.simulation.world import World

MICROS_PER_CENT = 10_000
TOPUP_MAX = 99_999_999
# What a seed must have done for its run to count as covering the loop.
LOOP_MINIMUM = {"runs_posted": 1, "invoices": 1, "items_paid": 1}


def step_first_month_usage(world: World, runtime: Any, check: Callable[[str], None]) -> str:
    return steps.step_usage(world, runtime, check, period=world.periods[0])


def step_first_month_run(world: World, runtime: Any, check: Callable[[str], None]) -> str:
    return steps.step_royalty_run(world, runtime, check, period=world.periods[0])


def step_fund_payouts(world: World, runtime: Any, check: Callable[[str], None]) -> str:
    """Finance tops the Stripe balance up to what the creators are owed (and a margin)."""
    owed_micros = -balances_by_name().get(("payable", EUR), 0)
    available = sum(
        b.amount for b in runtime.stripe.v1.balance.retrieve().available if b.currency == EUR
    )
    short = owed_micros // MICROS_PER_CENT + 1_000 - available
    if short <= 0:
        return "fund payouts: the balance covers them"
    left = short
    while left > 0:  # Stripe takes at most 99,999,999 minor units a top-up
        amount = min(left, TOPUP_MAX)
        gateway.topup_create(
            amount=amount,
            currency=EUR,
            idempotency_key=f"s{world.seed}-fund-{world.model.topups_minor}",
        )
        world.model.topups_minor += amount
        left -= amount
    return f"fund payouts {short}"


PROLOGUE: tuple[Step, ...] = (
    steps.step_purchase,
    step_first_month_usage,
    step_first_month_usage,
    step_first_month_run,
    step_fund_payouts,
    steps.step_payout_batch,
)


def step_at(world: World, index: int) -> Step:
    """The seed's step number `index` (from 0): the prologue's, then a random one."""
    return PROLOGUE[index] if index < len(PROLOGUE) else steps.step_choose(world)


def loop_coverage(world: World) -> dict[str, int]:
    """How far the seed got, counted from the tables (the declines from the model)."""
    return {
        "runs_posted": RoyaltyRun.objects.filter(status=RoyaltyRun.Status.POSTED).count(),
        "invoices": Invoice.objects.count(),
        "card_invoices_declined": len(world.model.declined_invoices),
        "declined_then_paid": len(world.model.retried_paid),
        "items_paid": PayoutItem.objects.filter(status__in=("paid", "reversed")).count(),
        "items_payable_insufficient": PayoutItem.objects.filter(
            failure_code="payable_insufficient"
        ).count(),
    }
