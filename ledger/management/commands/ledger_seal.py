"""`manage.py ledger_seal`: checkpoint balances and seal new transactions now."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from ledger import checkpoints, sealing
from ledger.horizon import WAIT_SECONDS_MAX


class Command(BaseCommand):
    help = (
        "Write balance checkpoints and seal the transactions posted since the last block "
        "into hash-chained blocks (what the ledger_seal_task does on a schedule)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--wait-seconds",
            type=float,
            default=WAIT_SECONDS_MAX,
            help="How long to wait for postings in flight before giving up this run.",
        )

    def handle(self, *args: object, **options: object) -> None:
        wait = float(options["wait_seconds"])
        self.stdout.write(str(checkpoints.balance_checkpoints_write(wait_seconds_max=wait)))
        self.stdout.write(str(sealing.blocks_seal(wait_seconds_max=wait)))
