"""Invariants of payouts against payables and of card invoices against Stripe.

From the tables and the sandbox's API, as the rest of `invariants.py`:

- **no payout overdraws a payable**: counted in posting order (entry ids, which the
  payable's lock orders for every posting that lowers it), the payable holds at least
  zero right after each `payout_submit`. A payable may still be in debit at rest, but
  only because a run's negative adjustment posted after the money had left (the
  creator owes it; docs/payouts.md "Payable insufficient"), never through a payout.
- **card invoices are charged once**: an open card invoice (a declined one included)
  has no succeeded PaymentIntent naming it at Stripe and no payment in the ledger; a
  paid one exactly one succeeded PaymentIntent naming it, of its amount due, the one
  it records, and one `invoice-payment` posting; a declined invoice stays open with
  the bank's reason until a retry pays it.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db import connection

from payouts.models import Invoice
from tests.simulation.world import World


def _sql(query: str, params: tuple = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def check_no_payout_overdraws_a_payable() -> None:
    rows = _sql(
        "SELECT a.code, t.idempotency_key, r.running FROM ("
        "  SELECT e.account_id, e.transaction_id, SUM(e.amount_micros)"
        "   OVER (PARTITION BY e.account_id ORDER BY e.id) AS running"
        "  FROM ledger_entry e JOIN ledger_account a ON a.id = e.account_id"
        "  WHERE a.owner_type = 'creator' AND a.code LIKE %s"
        " ) r JOIN ledger_transaction t ON t.id = r.transaction_id"
        " JOIN ledger_account a ON a.id = r.account_id"
        " WHERE t.kind = 'payout_submit' AND r.running > 0 LIMIT 5",
        ("%:payable:%",),
    )
    assert not rows, f"payouts that took a payable into debit (code, posting, balance): {rows}"


def _intents_by_invoice(runtime: Any) -> dict[str, list[Any]]:
    found, params = [], {"limit": 100}
    for _ in range(1_000):
        page = runtime.stripe.v1.payment_intents.list(params)
        found += page.data
        if not page.has_more:
            break
        params = {"limit": 100, "starting_after": page.data[-1].id}
    by_invoice: dict[str, list[Any]] = defaultdict(list)
    for intent in found:
        invoice = (intent.metadata.to_dict() if intent.metadata else {}).get("accord_invoice")
        if invoice:
            by_invoice[invoice].append(intent)
    return by_invoice


def check_invoices_charged_once(world: World, runtime: Any) -> None:
    by_invoice = _intents_by_invoice(runtime)
    payments = {
        key: count
        for key, count in _sql(
            "SELECT idempotency_key, COUNT(*) FROM ledger_transaction"
            " WHERE idempotency_key LIKE %s GROUP BY idempotency_key",
            ("invoice-payment:%",),
        )
    }
    for invoice in Invoice.objects.all():
        succeeded = [i for i in by_invoice.get(invoice.public_id, []) if i.status == "succeeded"]
        posted = payments.get(f"invoice-payment:{invoice.public_id}", 0)
        where = f"invoice {invoice.public_id} ({invoice.billing}, {invoice.status})"
        if invoice.status == Invoice.Status.OPEN:
            assert not succeeded, f"{where}: Stripe charged it: {[i.id for i in succeeded]}"
            assert posted == 0, f"{where}: a payment is posted"
            continue
        if invoice.paid_by in (Invoice.PaidBy.CARD, Invoice.PaidBy.STRIPE):
            assert [(i.id, i.amount) for i in succeeded] == [
                (invoice.payment_intent_id, invoice.amount_due)
            ], f"{where}: succeeded PaymentIntents {[(i.id, i.amount) for i in succeeded]}"
        else:
            assert not succeeded, f"{where} paid by {invoice.paid_by}, yet charged: {succeeded}"
        expected = 0 if invoice.paid_by == Invoice.PaidBy.NOTHING_DUE else 1
        assert posted == expected, f"{where}: {posted} payments posted, expected {expected}"
    for public_id in world.model.declined_invoices:
        invoice = Invoice.objects.get(public_id=public_id)
        declined = [i for i in by_invoice.get(public_id, []) if i.status != "succeeded"]
        assert declined, f"invoice {public_id} was declined, but Stripe shows no declined charge"
        if invoice.status == Invoice.Status.OPEN:
            assert invoice.failure_code, f"declined invoice {public_id} open without a reason"
