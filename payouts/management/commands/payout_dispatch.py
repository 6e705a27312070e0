"""`manage.py payout_dispatch BATCH`: dispatch an approved batch and show its progress.

With a broker the items are sent by the Celery workers and this command only watches
the batch; without one (the embedded default) it sends them itself, chunk by chunk.
Either way the bar counts items that reached a final status (paid or failed).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from config.celery import app
from config.errors import DomainError
from payouts.models import PayoutBatch, PayoutItem
from payouts.selectors.payout_batches import batch_progress, payout_batch_get
from payouts.services.payout_batches import payout_batch_dispatch
from payouts.services.payout_dispatch import payout_batch_send_in_process

POLL_SECONDS = 0.5
FINAL = (PayoutBatch.Status.COMPLETED, PayoutBatch.Status.COMPLETED_WITH_FAILURES)


class Command(BaseCommand):
    help = "Dispatch an approved payout batch (by id, pob_…) and show a progress bar."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("batch", help="the batch's id, e.g. pob_4fJ2…")
        parser.add_argument(
            "--timeout", type=float, default=3600.0, help="seconds to watch (default 3600)"
        )

    def handle(self, *args: Any, batch: str, timeout: float, **options: Any) -> None:
        found = payout_batch_get(public_id=batch)
        if found is None:
            raise CommandError(f"No payout batch {batch!r}.")
        # Eager mode would send everything inside the dispatch call, with no bar to show:
        # the command sends the items itself, through the same in-process path as the demo.
        eager = bool(app.conf.task_always_eager)
        if eager and found.status == PayoutBatch.Status.DRAFT:
            raise CommandError("The batch must be approved before it is dispatched.")
        if not eager:
            try:
                found = payout_batch_dispatch(batch=found)
            except DomainError as error:
                raise CommandError(error.message) from error
        with tqdm(total=found.items_count, unit="item", file=self.stdout) as bar:
            if eager:
                open_count = PayoutItem.objects.filter(
                    batch=found, status__in=PayoutItem.OPEN_STATUSES
                ).count()
                bar.update(found.items_count - open_count)
                payout_batch_send_in_process(batch=found, on_chunk=bar.update)
            else:
                self._watch(found, bar, timeout)
        found.refresh_from_db()
        progress = batch_progress(batch=found)
        self.stdout.write(
            f"{found.public_id}: {found.status}; paid {progress.counts['paid']}, "
            f"failed {progress.counts['failed']}, open {progress.open_count}"
        )

    def _watch(self, batch: PayoutBatch, bar: tqdm, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batch.refresh_from_db()
            done = batch_progress(batch=batch).done_count
            bar.update(done - bar.n)
            if batch.status in FINAL:
                return
            time.sleep(POLL_SECONDS)
        raise CommandError("Timed out watching the batch; the workers carry on.")
