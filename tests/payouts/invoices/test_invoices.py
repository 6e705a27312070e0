"""Licensee invoices issued by a posted run: lines, totals to the micro, the remainder
carried, payments posted once against the receivable.

Catalogue (tests/licensing/licensee_fixtures.py): the per-unit offer is 0.042 cents a token on
`solo` (alice alone); the flat offer 10.00 EUR on `shared`. EUR: a cent is 10,000 micros.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Sum

from ledger.models import Transaction
from ledger.selectors import account_balance, account_get, trial_balance
from licensing.models import InvoiceLine
from payouts.errors import PayoutError
from payouts.models import Invoice, InvoiceItem, RoyaltyLine, RoyaltyRun
from payouts.services.invoices import invoice_mark_paid
from payouts.services.royalty_posting import royalty_run_post
from tests.factories import OrganizationFactory
from tests.payouts.invoices.runs import post_run
from tests.payouts.royalty_fixtures import buy

pytestmark = pytest.mark.django_db


def balance(code: str) -> int:
    return account_balance(account_get(code=code))


def licensee_gross(run: RoyaltyRun, organization) -> int:
    """What the run debited the organisation's receivable: its non-pool lines' gross."""
    lines = run.lines.filter(license__organization=organization).exclude(kind=RoyaltyLine.Kind.POOL)
    return lines.aggregate(gross=Sum("gross_micros"))["gross"] or 0


def test_invoice_total_is_its_lines_and_the_run_gross_to_the_micro(
    catalogue, invoice_org, usage, finance, monkeypatch, django_capture_on_commit_callbacks
):
    # Given a per-unit license with 1,000,001 tokens in January (42,000.042 cents), a
    # flat purchase billed in January (10.00 EUR), and another licensee's usage.
    other_org = OrganizationFactory(slug="other-lab", name="Other Lab")
    per_unit = buy(
        monkeypatch,
        organization=invoice_org,
        offer=catalogue.per_unit_offer,
        at=datetime(2026, 1, 5, tzinfo=UTC),
    )
    flat = buy(
        monkeypatch,
        organization=invoice_org,
        offer=catalogue.flat_offer,
        at=datetime(2026, 1, 6, tzinfo=UTC),
    )
    # The purchase's line is billed in the month it was bought (today): say January.
    InvoiceLine.objects.filter(license=flat).update(period="2026-01")
    others = buy(
        monkeypatch,
        organization=other_org,
        offer=catalogue.per_unit_offer,
        at=datetime(2026, 1, 5, tzinfo=UTC),
    )
    usage.declare("2026-01", per_unit, catalogue.solo_work, 1_000_001)
    usage.declare("2026-01", others, catalogue.solo_work, 3)

    run = post_run("2026-01", finance, django_capture_on_commit_callbacks)

    invoice = Invoice.objects.get(organization=invoice_org)
    items = list(invoice.items.order_by("kind"))
    assert [(item.kind, item.license_id, item.amount_micros) for item in items] == [
        ("per_unit", per_unit.pk, 420_000_420),
        ("purchase", flat.pk, 10_000_000),
    ]
    assert items[0].units == 1_000_001
    assert invoice.total_micros == sum(item.amount_micros for item in items) == 430_000_420
    assert items[0].amount_micros == licensee_gross(run, invoice_org) == 420_000_420
    # Whole cents are due; the 420 micros left are carried to the next invoice.
    assert (invoice.amount_due, invoice.carried_in_micros, invoice.carried_out_micros) == (
        43_000,
        0,
        420,
    )
    assert invoice.status == Invoice.Status.OPEN
    assert invoice.due_at == invoice.created_at + timedelta(days=30)
    # The invoice bills exactly what the books hold on the receivable.
    receivable = f"organization:{invoice_org.public_id}:receivable:eur"
    assert balance(receivable) == invoice.total_micros

    other = Invoice.objects.get(organization=other_org)
    assert other.total_micros == licensee_gross(run, other_org) == 3 * 420  # 0.126 cents
    assert (other.amount_due, other.status, other.paid_by) == (0, "paid", "nothing_due")

    # Posting the run again (a re-delivered job) issues nothing twice.
    royalty_run_post(run_id=run.pk)
    assert Invoice.objects.count() == 2
    assert InvoiceItem.objects.count() == 3


def test_the_remainder_is_carried_to_the_next_invoice(
    catalogue, invoice_org, usage, finance, monkeypatch, django_capture_on_commit_callbacks
):
    per_unit = buy(
        monkeypatch,
        organization=invoice_org,
        offer=catalogue.per_unit_offer,
        at=datetime(2026, 1, 5, tzinfo=UTC),
    )
    for period in ("2026-01", "2026-02", "2026-03"):
        usage.declare(period, per_unit, catalogue.solo_work, 1_000_001)
        post_run(period, finance, django_capture_on_commit_callbacks)

    invoices = list(Invoice.objects.filter(organization=invoice_org).order_by("period"))
    assert [(i.total_micros, i.carried_in_micros, i.amount_due) for i in invoices] == [
        (420_000_420, 0, 42_000),
        (420_000_420, 420, 42_000),
        (420_000_420, 840, 42_000),
    ]
    assert invoices[-1].carried_out_micros == 1_260
    # Paid in whole cents, the receivable keeps exactly the carried remainder.
    for invoice in invoices:
        invoice_mark_paid(invoice=invoice, user=finance, reference="bank 2026-04")
    assert balance(f"organization:{invoice_org.public_id}:receivable:eur") == 1_260
    assert balance("platform:bank:eur") == 3 * 42_000 * 10_000
    assert trial_balance().balanced


def test_finance_marks_an_invoice_paid_once_and_others_may_not(
    catalogue, invoice_org, usage, finance, monkeypatch, django_capture_on_commit_callbacks
):
    per_unit = buy(
        monkeypatch,
        organization=invoice_org,
        offer=catalogue.per_unit_offer,
        at=datetime(2026, 1, 5, tzinfo=UTC),
    )
    usage.declare("2026-01", per_unit, catalogue.solo_work, 1_000_000)
    post_run("2026-01", finance, django_capture_on_commit_callbacks)
    invoice = Invoice.objects.get()
    receivable = f"organization:{invoice_org.public_id}:receivable:eur"

    # A staff user without finance rights is refused, and nothing is written.
    staff = get_user_model().objects.create_user("clerk", is_staff=True)
    with pytest.raises(PayoutError) as refused:
        invoice_mark_paid(invoice=invoice, user=staff)
    assert refused.value.code == "not_a_finance_user"
    invoice.refresh_from_db()
    assert invoice.status == "open"
    assert not Transaction.objects.filter(kind="invoice_payment").exists()

    paid = invoice_mark_paid(invoice=invoice, user=finance, reference="SEPA 123")
    assert (paid.status, paid.paid_by, paid.marked_paid_by) == ("paid", "manual", finance)
    assert balance(receivable) == 0
    assert balance("platform:bank:eur") == 420_000_000

    with pytest.raises(PayoutError) as twice:
        invoice_mark_paid(invoice=invoice, user=finance)
    assert twice.value.code == "invoice_not_open"
    assert Transaction.objects.filter(kind="invoice_payment").count() == 1
    assert trial_balance().balanced
