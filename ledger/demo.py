"""The demo's last step: checkpoint, seal and verify the books its money loop posted.

The demo once posted a month of books of its own here (sales, a reversal, payouts in
whole cents) while nothing else did; now the catalogue, royalty runs, invoices and
payout batches post real ones, and made-up card sales on the platform's Stripe balance,
with no charge at Stripe, would read as differences in that day's reconciliation. It
must not import `payouts` (which depends on the ledger, not the other way round).
"""

from __future__ import annotations

from ledger.sealing import chain_verify
from ledger.services import ledger_seal


def demo_ledger_seal() -> str:
    """Checkpoint and seal the books, then verify the chain; return a one-line summary."""
    summary = ledger_seal()
    report = chain_verify()
    verdict = "verified" if report.ok else f"FAILED at block {report.first_bad_block}"
    return (
        f"ledger: {summary}; chain {verdict} "
        f"({report.blocks_checked} blocks, {report.transactions_sealed} transactions)"
    )
