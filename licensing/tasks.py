"""Celery tasks of the licensing app: thin wrappers around services."""

from celery import shared_task

from licensing.services.licenses import licenses_expire


@shared_task
def licenses_expire_task() -> int:
    """Mark active licenses past their end as expired (beat, every few minutes)."""
    return licenses_expire()
