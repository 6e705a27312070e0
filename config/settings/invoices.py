"""Licensee invoices (issue 16, docs/invoices.md): when they are due, and how a declined
card is tried again.
"""

from config.settings.core import *  # noqa: F403
from config.settings.core import CELERY_BEAT_SCHEDULE, env

# Days an invoice-billed organisation has to pay; card invoices are due (and charged) at once.
INVOICE_DUE_DAYS = env.int("INVOICE_DUE_DAYS", default=30)
# A declined card is tried again after base * 2^(declines - 1) seconds, capped, up to
# the attempts' maximum; then the invoice waits for staff (shown in the admin).
INVOICE_CHARGE_BACKOFF_BASE_SECONDS = env.float(
    "INVOICE_CHARGE_BACKOFF_BASE_SECONDS", default=3600.0
)
INVOICE_CHARGE_BACKOFF_MAX_SECONDS = env.float(
    "INVOICE_CHARGE_BACKOFF_MAX_SECONDS", default=3 * 86_400.0
)
INVOICE_CHARGE_ATTEMPTS_MAX = env.int("INVOICE_CHARGE_ATTEMPTS_MAX", default=8)
# How long one attempt holds the invoice before another worker may try (a dead worker's).
INVOICE_CHARGE_LEASE_SECONDS = env.int("INVOICE_CHARGE_LEASE_SECONDS", default=600)
CELERY_BEAT_SCHEDULE["invoices-charge-due"] = {
    "task": "payouts.tasks.invoices_charge_due_task",
    "schedule": 600.0,
}
