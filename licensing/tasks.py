"""Celery tasks of the licensing app: thin wrappers around services."""

from celery import shared_task

from licensing.services.licenses import licenses_expire
from licensing.services.usage_partitions import usage_partitions_ahead


@shared_task
def licenses_expire_task() -> int:
    """Mark active licenses past their end as expired (beat, every few minutes)."""
    return licenses_expire()


@shared_task
def usage_partitions_ahead_task() -> list[str]:
    """Make this month's usage partition and the next few ahead (beat, daily)."""
    return usage_partitions_ahead()
