"""Store a day's reconciliation and tell finance staff when the books and Stripe differ."""

from __future__ import annotations

import datetime
import logging

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.utils import timezone

from licensing.services.creators import FINANCE_GROUP
from payouts.models import Reconciliation
from payouts.selectors.reconciliation import reconciliation_for_date

logger = logging.getLogger("accord.payouts.reconciliation")


def _staff_tell(row: Reconciliation) -> None:
    users = get_user_model().objects.filter(is_active=True, is_staff=True)
    emails = sorted(
        {
            user.email
            for user in users.filter(groups__name=FINANCE_GROUP) | users.filter(is_superuser=True)
            if user.email
        }
    )
    lines = [
        f"- {d['kind']}: ledger {d['ledger']}, Stripe {d['stripe']}, {d['amount']} {d['currency']}"
        for d in row.differences
    ]
    logger.warning("reconciliation of %s: %d differences", row.date, len(row.differences))
    if emails:
        send_mail(
            subject=f"Accord reconciliation {row.date}: {len(row.differences)} differences",
            message="\n".join(lines),
            from_email=None,
            recipient_list=emails,
        )


def reconciliation_run(*, day: datetime.date) -> Reconciliation:
    """Reconcile one day, store the result, and tell staff of any difference."""
    result = reconciliation_for_date(day=day)
    row = Reconciliation.objects.create(
        date=day, matched=result.matched, differences=result.differences
    )
    if row.differences:
        _staff_tell(row)
    return row


def reconciliation_run_for_yesterday() -> Reconciliation:
    return reconciliation_run(day=timezone.now().date() - datetime.timedelta(days=1))
