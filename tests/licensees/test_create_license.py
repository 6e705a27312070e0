"""`manage.py create_license`: a license agreed on paper before Accord (issue 14, item 6).

The same checks, charge or invoice line and ledger posting as `POST /api/v1/licenses`;
only the term starts on `--starts-at` (midnight UTC), at most 24 months back, never in
the future. No HTTP endpoint backdates.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from ledger.models import Entry, Transaction
from licensing.models import InvoiceLine, License, Purchase
from licensing.selectors.licenses import license_effective_status
from licensing.services.purchases import _months_before
from tests.licensees.conftest import Catalogue


def _create(*args: str) -> str:
    out = StringIO()
    call_command("create_license", *args, stdout=out)
    return out.getvalue().strip()


def _days_ago(days: int) -> date:
    return timezone.now().date() - timedelta(days=days)


def test_an_invoiced_agreement_starts_on_its_date_and_is_billed_now(
    catalogue: Catalogue, invoice_org: Any
) -> None:
    starts_on = _days_ago(100)

    printed = _create(
        "--org", "invoice-lab", "--offer", catalogue.flat_offer.public_id,
        "--starts-at", starts_on.isoformat(),
    )  # fmt: skip

    granted = License.objects.get()
    assert printed == granted.public_id
    assert granted.starts_at == datetime.combine(starts_on, datetime.min.time(), tzinfo=UTC)
    assert granted.ends_at == granted.starts_at + timedelta(days=365)
    assert granted.amount == 1_000
    line = InvoiceLine.objects.get()
    assert (line.amount, line.period) == (1_000, timezone.now().strftime("%Y-%m"))
    assert Entry.objects.filter(amount_micros=10_000_000).count() == 1  # the receivable
    assert granted.purchase.offer_version_digest
    # The sale belongs to the day the agreement started, in the books (hl's effective_at).
    sale = Transaction.objects.get(pk=granted.ledger_transaction_id)
    assert sale.effective_at == granted.starts_at
    assert sale.created_at > granted.starts_at + timedelta(days=99)


def test_a_card_agreement_is_charged(
    catalogue: Catalogue, card_org: Any, stripe_sandbox_settings: Any
) -> None:
    starts_on = _days_ago(30)

    _create(
        "--org", "card-lab", "--offer", catalogue.collection_flat_offer.public_id,
        "--works", catalogue.solo_work.public_id, catalogue.shared_work.public_id,
        "--starts-at", starts_on.isoformat(),
    )  # fmt: skip

    granted = License.objects.get()
    assert granted.starts_at.date() == starts_on
    assert granted.amount == 1_000  # 5.00 per work, two works
    assert license_effective_status(granted) == "active"
    from payouts.stripe import gateway

    assert gateway.balance_retrieve().available["eur"] == 1_000
    assert Purchase.objects.get().status == Purchase.Status.SUCCEEDED


def test_running_it_again_records_one_license(catalogue: Catalogue, invoice_org: Any) -> None:
    args = ("--org", "invoice-lab", "--offer", catalogue.pool_offer.public_id)
    first = _create(*args, "--starts-at", _days_ago(60).isoformat())
    again = _create(*args, "--starts-at", _days_ago(60).isoformat())

    assert first == again
    assert License.objects.count() == 1
    assert Transaction.objects.count() == 1


def test_a_term_that_ended_is_recorded_expired(catalogue: Catalogue, invoice_org: Any) -> None:
    _create(
        "--org", "invoice-lab", "--offer", catalogue.pool_offer.public_id,
        "--starts-at", _days_ago(45).isoformat(),
    )  # fmt: skip

    assert license_effective_status(License.objects.get()) == "expired"  # a 30-day pool


def test_twenty_four_months_back_is_the_limit(catalogue: Catalogue, invoice_org: Any) -> None:
    today = timezone.now().date()
    earliest = _months_before(today, 24)
    offer = catalogue.per_unit_offer.public_id

    with pytest.raises(CommandError, match="at most 24 months"):
        _create(
            "--org", "invoice-lab", "--offer", offer,
            "--starts-at", (earliest - timedelta(days=1)).isoformat(),
        )  # fmt: skip
    assert not Purchase.objects.exists()
    _create("--org", "invoice-lab", "--offer", offer, "--starts-at", earliest.isoformat())
    assert License.objects.get().starts_at.date() == earliest


def test_months_before_keeps_the_day_or_the_months_last() -> None:
    assert _months_before(date(2026, 12, 3), 24) == date(2024, 12, 3)
    assert _months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert _months_before(date(2026, 2, 28), 24) == date(2024, 2, 28)
    assert _months_before(date(2026, 1, 15), 13) == date(2024, 12, 15)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--org", "nobody", "--starts-at", "2026-01-01"), "No organisation"),
        (("--org", "invoice-lab", "--starts-at", "tomorrow"), "not a date"),
        (("--org", "invoice-lab", "--starts-at", "2999-01-01"), "never in the future"),
        (("--org", "invoice-lab", "--starts-at", "2026-13-01"), "not a date"),
    ],
)
def test_bad_arguments_exit_with_a_reason_and_write_nothing(
    catalogue: Catalogue, invoice_org: Any, args: tuple, message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        _create("--offer", catalogue.flat_offer.public_id, *args)

    assert not Purchase.objects.exists()


@pytest.mark.parametrize(
    ("offer_name", "works", "message"),
    [
        ("flat_offer", ["shared_work"], "do not name works"),
        ("collection_flat_offer", [], "Name the works"),
        ("usd_offer", [], "priced in usd"),
    ],
)
def test_the_purchases_checks_hold(
    catalogue: Catalogue, invoice_org: Any, offer_name: str, works: list, message: str
) -> None:
    work_ids = [getattr(catalogue, name).public_id for name in works]
    work_args = ["--works", *work_ids] if works else []

    with pytest.raises(CommandError, match=message):
        _create(
            "--org", "invoice-lab", "--offer", getattr(catalogue, offer_name).public_id,
            *work_args, "--starts-at", _days_ago(10).isoformat(),
        )  # fmt: skip

    assert not Purchase.objects.exists()


def test_an_agreement_overlapping_a_held_license_is_already_licensed(
    catalogue: Catalogue, invoice_org: Any
) -> None:
    args = ("--org", "invoice-lab", "--offer", catalogue.flat_offer.public_id)
    _create(*args, "--starts-at", _days_ago(10).isoformat())

    with pytest.raises(CommandError, match="already hold"):
        _create(*args, "--starts-at", _days_ago(200).isoformat())  # its term runs into today


def test_the_api_does_not_backdate(catalogue: Catalogue, invoice_org: Any, client_for: Any) -> None:
    response = client_for(invoice_org).post(
        "/api/v1/licenses",
        data=json.dumps({"offer": catalogue.flat_offer.public_id, "starts_at": "2025-01-01"}),
        content_type="application/json",
    )

    if response.status_code == 201:
        starts_at = datetime.fromisoformat(response.json()["starts_at"])
        assert abs(starts_at - timezone.now()) < timedelta(minutes=1)
    else:
        assert response.status_code == 400
    assert not License.objects.filter(starts_at__lt=timezone.now() - timedelta(minutes=1)).exists()
