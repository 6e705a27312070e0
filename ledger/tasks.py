"""Celery tasks of the ledger: thin wrappers around its services.

`ledger_seal_task` is meant to run every few seconds (Celery beat): each run writes
balance checkpoints and seals new blocks up to the settled horizon. Running it twice,
or while postings go on, is safe; another run in progress makes it return at once.
"""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from ledger.services import ledger_seal

# How often beat should run the task; see docs/ledger.md ("Scheduling").
SEAL_INTERVAL_SECONDS = 5.0


@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    ignore_result=True,
)
def ledger_seal_task() -> str:
    """Checkpoint balances and seal new transactions; return the summary line."""
    return str(ledger_seal())
