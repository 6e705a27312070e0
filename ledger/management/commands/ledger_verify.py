"""`manage.py ledger_verify`: recompute the seal chain and the ledger's invariants.

Exits 0 when everything matches; otherwise prints every problem found and exits 1,
naming the first block whose stored seal does not match the rows.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from ledger.sealing import chain_verify


class Command(BaseCommand):
    help = (
        "Recompute every sealed block's hashes from the stored transactions and entries, "
        "and check balances, currencies and checkpoints; exit 1 naming the first bad block."
    )

    def handle(self, *args: object, **options: object) -> None:
        report = chain_verify()
        summary = (
            f"{report.blocks_checked} blocks checked, {report.transactions_sealed} transactions "
            f"sealed, {report.transactions_unsealed} not sealed yet"
        )
        if report.ok:
            self.stdout.write(f"ledger verified: {summary}")
            return
        for problem in report.problems:
            self.stderr.write(f"- {problem}")
        first = (
            f"first bad block: {report.first_bad_block}"
            if report.first_bad_block is not None
            else "every sealed block matches"
        )
        raise CommandError(f"ledger verification FAILED ({first}; {summary})")
