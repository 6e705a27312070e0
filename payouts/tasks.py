"""Celery tasks of the payouts app: thin wrappers that take ids and call a service."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from payouts.models import RoyaltyRun
from payouts.services.royalty_posting import royalty_run_post
from payouts.services.royalty_runs import royalty_run_compute


@shared_task(autoretry_for=(OperationalError,), max_retries=3, retry_backoff=True)
def royalty_run_compute_task(run_id: int) -> str:
    """Rate a run's period into lines (a computing run; a no-op otherwise)."""
    return royalty_run_compute(run_id=run_id).status


@shared_task(autoretry_for=(OperationalError,), max_retries=5, retry_backoff=True)
def royalty_run_post_task(run_id: int) -> str:
    """Post an approved run in chunks; run twice, it posts every transaction once."""
    return royalty_run_post(run_id=run_id).status


@shared_task
def royalty_runs_resume_task() -> int:
    """Re-enqueue runs a dead worker left approved or half-posted (beat, every few minutes)."""
    run_ids = list(
        RoyaltyRun.objects.filter(
            status__in=[RoyaltyRun.Status.APPROVED, RoyaltyRun.Status.POSTING]
        ).values_list("pk", flat=True)
    )
    for run_id in run_ids:
        royalty_run_post_task.delay(run_id)
    return len(run_ids)
