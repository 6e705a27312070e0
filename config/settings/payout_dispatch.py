"""Paying creators through Stripe Connect (issue 17, docs/payouts.md): the shared rate
limit, the minimum payout, the dispatch's chunks and retries, its beat job.
"""

from celery.schedules import crontab

from config.settings.core import *  # noqa: F403
from config.settings.core import CELERY_BEAT_SCHEDULE, env

# Stripe requests a second for the whole platform, shared by every worker through a
# Redis token bucket (Stripe's test mode answers 429 above 25).
STRIPE_REQUESTS_PER_SECOND = env.float("STRIPE_REQUESTS_PER_SECOND", default=25.0)
STRIPE_REQUESTS_BURST = env.int("STRIPE_REQUESTS_BURST", default=1)
STRIPE_RATE_LIMIT_KEY = env("STRIPE_RATE_LIMIT_KEY", default="accord:stripe-requests")
# The smallest payout per currency, in minor units (a creator below it is skipped).
PAYOUT_MINIMUM = env.int("PAYOUT_MINIMUM", default=1_000)
PAYOUT_MINIMUM_BY_CURRENCY: dict[str, int] = {}
# A batch whose total (minor units) is above this needs two different approvers.
PAYOUT_SECOND_APPROVAL_ABOVE = env.int("PAYOUT_SECOND_APPROVAL_ABOVE", default=1_000_000)
# Items per Celery job of a dispatch, and the retries of one transfer within a job.
PAYOUT_CHUNK_SIZE = env.int("PAYOUT_CHUNK_SIZE", default=50)
# A dispatch is cut into at least this many jobs (smaller ones for a small batch), so
# that every worker process has work until the end instead of one finishing the
# last big chunk alone at a fraction of the rate limit.
PAYOUT_FAN_OUT_CHUNKS_MIN = env.int("PAYOUT_FAN_OUT_CHUNKS_MIN", default=32)
PAYOUT_TRANSIENT_RETRIES_MAX = env.int("PAYOUT_TRANSIENT_RETRIES_MAX", default=6)
PAYOUT_BACKOFF_BASE_SECONDS = env.float("PAYOUT_BACKOFF_BASE_SECONDS", default=0.1)
PAYOUT_BACKOFF_MAX_SECONDS = env.float("PAYOUT_BACKOFF_MAX_SECONDS", default=5.0)
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
# How long a job taken by a worker that died unseen (SIGKILL of the whole worker) stays
# hidden before Redis hands it out again; a job must finish well within it.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT_SECONDS", default=3600)
}
CELERY_BEAT_SCHEDULE["payouts-reconcile-daily"] = {
    "task": "payouts.tasks.reconciliation_daily_task",
    "schedule": crontab(hour=3, minute=0),
}
