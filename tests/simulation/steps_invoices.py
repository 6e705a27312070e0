"""Card invoices under a declining card: the fault, the licensee's new card, the retry.

The fault is Stripe's own decline, through the sandbox's test cards: the card
organisation's card on file is replaced by `pm_card_chargeCustomerFail` (attaches,
declines when charged, as at Stripe) before a run posts, so the run's card invoice
is declined; once the charge was tried the licensee puts a good card back
(`organization_card_replace`, as after a call from finance). The invoice stays `open`
with the bank's reason and a receivable, until finance presses "Charge the card now"
(`step_invoice_retry`), which must pay it exactly once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from licensing.services.organizations import organization_card_replace
from payouts.models import Invoice
from payouts.services.invoice_charges import invoice_charge_retry_now
from payouts.tasks import invoice_charge_task
from tests.simulation.world import World

DECLINING_CARD = "pm_card_chargeCustomerFail"
GOOD_CARD = "pm_card_visa"
CARD = "card"
CHARGE_WAIT_SECONDS = 60
BANK_DECLINES = frozenset({"generic_decline", "insufficient_funds", "card_declined"})
BEAT_EVERY_SECONDS = 4.0


def _card_replace(world: World, payment_method: str) -> None:
    world.model.card_changes += 1
    key = f"s{world.seed}-card-{world.model.card_changes}"
    world.card_org = organization_card_replace(
        organization=world.card_org, payment_method=payment_method, idempotency_key=key
    )


def card_decline_arm(world: World) -> bool:
    """Maybe put a declining card on file before a run posts; say whether it did."""
    if world.rng_added.random() >= 0.35:
        return False
    _card_replace(world, DECLINING_CARD)
    return True


def _charge_tried(invoice: Invoice) -> bool:
    invoice.refresh_from_db()
    return invoice.status != Invoice.Status.OPEN or bool(invoice.failure_code)


def _wait_for_the_charge(invoice: Invoice, runtime: Any) -> bool:
    """Wait (bounded) for the first charge of the invoice; False if it did not come.

    A worker killed during the charge leaves the invoice leased for
    INVOICE_CHARGE_LEASE_SECONDS (600 s): not a failure, only no decline this time.
    """
    deadline = time.monotonic() + CHARGE_WAIT_SECONDS
    next_beat = time.monotonic() + BEAT_EVERY_SECONDS
    while time.monotonic() < deadline:
        if _charge_tried(invoice):
            return True
        if time.monotonic() > next_beat:
            runtime.beat()  # the charge job may have died with a killed worker
            next_beat = time.monotonic() + BEAT_EVERY_SECONDS
        time.sleep(0.2)
    return False


def card_decline_settle(world: World, runtime: Any, run_pk: int) -> str:
    """Wait for the run's card invoice to be tried, then put a good card back."""
    invoice = Invoice.objects.filter(
        run_id=run_pk, organization=world.card_org, billing=CARD
    ).first()
    note = "card declining: no card invoice"
    if invoice is not None and not _wait_for_the_charge(invoice, runtime):
        note = f"card declining: invoice {invoice.public_id} not charged yet"
    elif invoice is not None:
        # Only the bank's refusal leaves a declined charge at Stripe; Stripe may refuse
        # the request itself first (`amount_too_large` above 99,999,999 minor units).
        if invoice.status == Invoice.Status.OPEN and invoice.failure_code in BANK_DECLINES:
            world.model.declined_invoices.add(invoice.public_id)
        note = f"card invoice {invoice.status} {invoice.failure_code or invoice.paid_by}"
    _card_replace(world, GOOD_CARD)
    return note


def step_invoice_retry(world: World, runtime: Any, check: Callable[[str], None]) -> str:
    """Finance: "Charge the card now" on a declined card invoice (pressed twice, maybe)."""
    declined = list(
        Invoice.objects.filter(status=Invoice.Status.OPEN, billing=CARD)
        .exclude(failure_code="")
        .order_by("id")
    )
    if not declined:
        return "invoice retry: nothing declined"
    invoice = world.rng.choice(declined)
    refusals = invoice.charge_refusals
    presses = world.rng.choice([1, 2])
    for _ in range(presses):
        invoice_charge_retry_now(invoice=invoice)
        invoice_charge_task.delay(invoice.pk)
    runtime.wait_for(
        lambda: _paid_or_declined_again(invoice, refusals),
        what=f"invoice {invoice.public_id} retried",
        timeout_seconds=90,
    )
    invoice.refresh_from_db()
    if invoice.status == Invoice.Status.PAID:
        world.model.retried_paid.add(invoice.public_id)
    return f"invoice retry x{presses}: {invoice.status} {invoice.failure_code}"


def _paid_or_declined_again(invoice: Invoice, refusals: int) -> bool:
    invoice.refresh_from_db()
    return invoice.status != Invoice.Status.OPEN or invoice.charge_refusals > refusals
