"""`make demo` leaves its creator a final statement of last month, and says where it is."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command

from payouts.demo import demo_job_run
from payouts.models import RoyaltyRun
from payouts.selectors.statements import statement_for

pytestmark = pytest.mark.django_db


def test_the_demo_creator_has_a_statement_a_pdf_and_a_chart(stripe_sandbox_settings: Any) -> None:
    call_command("load_demo_data", stdout=io.StringIO())

    summaries = demo_job_run()

    run = RoyaltyRun.objects.get(status=RoyaltyRun.Status.POSTED)
    line = run.lines.get()
    statement = statement_for(creator=line.creator, period=run.period, currency="eur")
    assert statement.status == "final"
    assert [(each.kind, each.net_micros) for each in statement.lines] == [("per_unit", 55_552_500)]
    (summary,) = [each for each in summaries if each.startswith("statements:")]
    assert f"/admin/statements/{statement.id}/" in summary
    assert f"/admin/statements/{statement.id}.pdf" in summary
    assert "final" in summary
