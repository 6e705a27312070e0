"""`manage.py payout_dispatch BATCH`."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from payouts.models import PayoutBatch
from payouts.services.payout_batches import payout_batch_approve, payout_batch_create
from tests.payouts.builders import creator_onboard, creators_bulk_create, creators_fund

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_sandbox_settings")]


def test_payout_dispatch_sends_an_approved_batch_with_a_progress_bar(
    stripe_sandbox_control: Any, finance_user: Any, settings: Any
) -> None:
    settings.PAYOUT_SECOND_APPROVAL_ABOVE = 10**12
    creators = creators_bulk_create(5)
    creators_fund(creators)
    for creator in creators:
        creator_onboard(creator, stripe_sandbox_control)
    batch = payout_batch_create(currency="eur")

    with pytest.raises(CommandError, match="approved"):
        call_command("payout_dispatch", batch.public_id, stdout=io.StringIO())
    with pytest.raises(CommandError, match="No payout batch"):
        call_command("payout_dispatch", "pob_missing", stdout=io.StringIO())

    payout_batch_approve(batch=batch, user=finance_user)
    out = io.StringIO()
    call_command("payout_dispatch", batch.public_id, stdout=out)
    batch.refresh_from_db()
    assert batch.status == PayoutBatch.Status.COMPLETED
    assert "5/5" in out.getvalue()
    assert "completed; paid 5, failed 0, open 0" in out.getvalue()
