"""A license sale is effective when the license starts, not when it was recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from ledger.models import Transaction
from ledger.selectors import account_balance, account_get
from licensing.services import license_grants, purchases
from licensing.services.purchases import license_purchase
from tests.licensing.licensee_fixtures import Catalogue

pytestmark = pytest.mark.django_db

LICENSE_START = datetime(2026, 2, 10, 12, 0, tzinfo=UTC)


def test_the_sale_is_effective_at_the_licenses_start(catalogue: Catalogue, invoice_org) -> None:
    granted = license_purchase(
        organization=invoice_org, offer_id=catalogue.flat_offer.public_id, work_ids=None
    )
    sale = Transaction.objects.get(pk=granted.ledger_transaction_id)
    assert sale.effective_at == granted.starts_at
    assert set(sale.entries.values_list("effective_at", flat=True)) == {granted.starts_at}


def test_a_license_started_in_an_earlier_month_sells_in_that_month(
    catalogue: Catalogue, invoice_org, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a purchase whose clock reads 10 February (as a demo or a test building
    # history would run it), recorded today
    # (only the purchase and its grant read the shifted clock; the ledger records at now).
    shifted = SimpleNamespace(now=lambda: LICENSE_START)
    monkeypatch.setattr(purchases, "timezone", shifted)
    monkeypatch.setattr(license_grants, "timezone", shifted)
    granted = license_purchase(
        organization=invoice_org, offer_id=catalogue.flat_offer.public_id, work_ids=None
    )
    monkeypatch.undo()

    # Then the sale belongs to February in the books, whenever it was recorded
    sale = Transaction.objects.get(pk=granted.ledger_transaction_id)
    assert granted.starts_at == sale.effective_at == LICENSE_START
    assert sale.created_at > LICENSE_START + timedelta(days=1)
    receivable = account_get(code=f"organization:{invoice_org.public_id}:receivable:eur")
    assert account_balance(receivable, as_of=LICENSE_START - timedelta(microseconds=1)) == 0
    assert account_balance(receivable, as_of=datetime(2026, 3, 1, tzinfo=UTC)) == 10_000_000
    assert timezone.now() > LICENSE_START
