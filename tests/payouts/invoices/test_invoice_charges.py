"""Card-billed organisations' invoices: charged after the run commits, through the
sandbox and the real SDK; a decline leaves the invoice open with the reason, and a later
retry (the beat job) pays it once; Stripe's webhook, however often delivered, posts
nothing twice.

The per-unit offer is 0.042 cents a token: 1,000,000 tokens are 420.00 EUR.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import stripe
from django.test import Client, TestCase
from django.utils import timezone

from ledger.models import Transaction
from ledger.selectors import account_balance, account_get, trial_balance
from licensing.services.organizations import organization_card_replace
from payouts.models import Invoice, StripeEvent
from payouts.selectors.reconciliation import reconciliation_for_date
from payouts.services.invoice_charges import invoice_charge
from payouts.services.royalty_posting import royalty_run_post
from payouts.services.royalty_runs import royalty_run_approve, royalty_run_start
from payouts.stripe import gateway
from payouts.tasks import invoices_charge_due_task
from tests.payouts.invoices.runs import post_run
from tests.payouts.royalty_fixtures import buy
from tests.payouts.stripe.test_webhooks import _signature

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_sandbox_settings")]

DUE = 42_000  # cents: 1,000,000 tokens at 0.042


def balance(code: str) -> int:
    return account_balance(account_get(code=code))


def payments() -> int:
    return Transaction.objects.filter(kind="invoice_payment").count()


def usage_of(organization, catalogue, usage, monkeypatch, period="2026-01"):
    per_unit = buy(
        monkeypatch,
        organization=organization,
        offer=catalogue.per_unit_offer,
        at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC),
    )
    usage.declare(period, per_unit, catalogue.solo_work, 1_000_000)
    return per_unit


def deliver(event: dict) -> int:
    payload = json.dumps(event).encode()
    with TestCase.captureOnCommitCallbacks(execute=True):
        answer = Client().post(
            "/stripe/webhook",
            data=payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=_signature(payload),
        )
    return answer.status_code


def succeeded_event_for(stripe_client: stripe.StripeClient, intent_id: str) -> dict:
    events = stripe_client.v1.events.list({"type": "payment_intent.succeeded", "limit": 100}).data
    [event] = [e for e in events if e.data.object.id == intent_id]
    return event.to_dict()


def test_a_card_invoice_is_charged_after_the_run_commits_and_paid_once(
    catalogue, card_org, usage, finance, monkeypatch, django_capture_on_commit_callbacks,
    stripe_client,
):  # fmt: skip
    usage_of(card_org, catalogue, usage, monkeypatch)

    run = post_run("2026-01", finance, django_capture_on_commit_callbacks)

    invoice = Invoice.objects.get(organization=card_org)
    assert (invoice.status, invoice.paid_by, invoice.amount_due) == ("paid", "card", DUE)
    assert invoice.charge_attempts == 1
    assert invoice.due_at == invoice.created_at
    intent = gateway.payment_intent_retrieve(payment_intent_id=invoice.payment_intent_id)
    assert (intent.status, intent.amount, intent.metadata) == (
        "succeeded",
        DUE,
        {"accord_invoice": invoice.public_id},
    )
    assert gateway.balance_retrieve().available["eur"] == DUE
    assert balance("platform:stripe_balance:eur") == DUE * 10_000
    assert balance(f"organization:{card_org.public_id}:receivable:eur") == 0
    assert payments() == 1

    # Stripe's own word on the same payment, delivered twice, posts nothing more.
    event = succeeded_event_for(stripe_client, invoice.payment_intent_id)
    assert deliver(event) == 200
    assert deliver(event) == 200
    assert StripeEvent.objects.filter(stripe_id=event["id"]).count() == 1
    assert payments() == 1

    # The job delivered again, the beat job, a direct charge: nothing is charged twice.
    royalty_run_post(run_id=run.pk)
    assert invoices_charge_due_task() == 0
    invoice_charge(invoice_id=invoice.pk)
    assert len(stripe_client.v1.charges.list({"limit": 100}).data) == 1
    assert payments() == 1
    assert trial_balance().balanced

    # The books and the sandbox agree for the day of the charge.
    result = reconciliation_for_date(day=timezone.now().date())
    assert result.differences == []
    assert result.matched == 1


# The process caches queue on-commit callbacks of their own (a transaction's accounts
# and signing key are remembered once it commits): not work the code under test queued.
_CACHE_MODULES = ("ledger.account_cache", "licensing.certificates.keys")


def _queued_work(callbacks: list) -> list:
    return [callback for callback in callbacks if callback.__module__ not in _CACHE_MODULES]


def test_the_charge_waits_for_the_run_to_commit(
    catalogue, card_org, usage, finance, monkeypatch, django_capture_on_commit_callbacks
):
    usage_of(card_org, catalogue, usage, monkeypatch)

    with django_capture_on_commit_callbacks(execute=True):
        run = royalty_run_start(period="2026-01")
    run.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=False) as queued:
        royalty_run_approve(run=run, user=finance)  # queues the posting job
    with django_capture_on_commit_callbacks(execute=False) as charges:
        _queued_work(queued)[0]()  # the posting job: posts and issues, only queues the charge
    invoice = Invoice.objects.get()
    charges = _queued_work(charges)
    assert (invoice.status, invoice.charge_attempts, len(charges)) == ("open", 0, 1)
    assert gateway.balance_retrieve().available.get("eur", 0) == 0

    charges[0]()

    invoice.refresh_from_db()
    assert invoice.status == "paid"


def test_a_declined_card_leaves_the_invoice_open_and_a_later_retry_pays_it_once(
    catalogue, declining_org, usage, finance, monkeypatch, settings,
    django_capture_on_commit_callbacks, stripe_client,
):  # fmt: skip
    settings.INVOICE_CHARGE_BACKOFF_BASE_SECONDS = 3600
    usage_of(declining_org, catalogue, usage, monkeypatch)

    post_run("2026-01", finance, django_capture_on_commit_callbacks)

    invoice = Invoice.objects.get()
    assert invoice.status == "open"
    assert (invoice.failure_code, invoice.charge_attempts, invoice.charge_refusals) == (
        "generic_decline",
        1,
        1,
    )
    assert invoice.failure_message == "Your card was declined."
    assert invoice.next_charge_at - invoice.last_charge_at == dt.timedelta(hours=1)
    assert payments() == 0
    assert balance(f"organization:{declining_org.public_id}:receivable:eur") == DUE * 10_000
    # Not due yet: the beat job leaves it alone.
    assert invoices_charge_due_task() == 0

    # The licensee puts a good card on file; the hour passes; the beat job retries.
    organization_card_replace(
        organization=declining_org, payment_method="pm_card_visa", idempotency_key="new-card"
    )
    Invoice.objects.filter(pk=invoice.pk).update(
        next_charge_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert invoices_charge_due_task() == 1

    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid_by, invoice.charge_attempts) == ("paid", "card", 2)
    assert payments() == 1
    assert balance(f"organization:{declining_org.public_id}:receivable:eur") == 0
    assert balance("platform:stripe_balance:eur") == DUE * 10_000
    charges = stripe_client.v1.charges.list({"limit": 100}).data
    assert sorted((c.status, c.amount) for c in charges) == [("failed", DUE), ("succeeded", DUE)]
    assert gateway.balance_retrieve().available["eur"] == DUE

    # Retried again, and Stripe's webhook twice: still paid once.
    assert invoices_charge_due_task() == 0
    event = succeeded_event_for(stripe_client, invoice.payment_intent_id)
    deliver(event)
    deliver(event)
    assert payments() == 1
    assert trial_balance().balanced


def test_declines_back_off_and_stop_for_staff(
    catalogue, declining_org, usage, finance, monkeypatch, settings,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    settings.INVOICE_CHARGE_BACKOFF_BASE_SECONDS = 100
    settings.INVOICE_CHARGE_ATTEMPTS_MAX = 3
    usage_of(declining_org, catalogue, usage, monkeypatch)
    post_run("2026-01", finance, django_capture_on_commit_callbacks)
    invoice = Invoice.objects.get()
    delays = [invoice.next_charge_at - invoice.last_charge_at]

    for _ in range(2):
        invoice = invoice_charge(invoice_id=invoice.pk, at=invoice.next_charge_at)
        if invoice.next_charge_at:
            delays.append(invoice.next_charge_at - invoice.last_charge_at)

    assert delays == [dt.timedelta(seconds=100), dt.timedelta(seconds=200)]
    assert (invoice.status, invoice.charge_attempts, invoice.next_charge_at) == ("open", 3, None)
    assert payments() == 0


def test_a_lost_answer_is_replayed_under_the_same_key_never_charged_twice(
    catalogue, card_org, usage, finance, monkeypatch, django_capture_on_commit_callbacks,
    stripe_sandbox_control, stripe_client,
):  # fmt: skip
    usage_of(card_org, catalogue, usage, monkeypatch)
    # Stripe charges, then every answer is lost (the SDK's own retries too).
    stripe_sandbox_control.arm_fault("/v1/payment_intents", "drop_after", count=3)

    post_run("2026-01", finance, django_capture_on_commit_callbacks)

    invoice = Invoice.objects.get()
    assert (invoice.status, invoice.failure_code) == ("open", "payment_provider_unavailable")
    assert invoice.charge_refusals == 0  # the outcome is unknown: same key next time
    invoice = invoice_charge(invoice_id=invoice.pk, at=invoice.next_charge_at)

    assert invoice.status == "paid"
    assert len(stripe_client.v1.charges.list({"limit": 100}).data) == 1
    assert gateway.balance_retrieve().available["eur"] == DUE
    assert payments() == 1


def test_an_open_invoice_paid_through_stripe_is_posted_once(
    catalogue, invoice_org, usage, finance, monkeypatch, django_capture_on_commit_callbacks,
    stripe_client,
):  # fmt: skip
    usage_of(invoice_org, catalogue, usage, monkeypatch)
    post_run("2026-01", finance, django_capture_on_commit_callbacks)
    invoice = Invoice.objects.get()
    assert invoice.status == "open"

    # The licensee pays the invoice through Stripe (a PaymentIntent naming it).
    intent = stripe_client.v1.payment_intents.create(
        {
            "amount": invoice.amount_due,
            "currency": "eur",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "metadata": {"accord_invoice": invoice.public_id},
        }
    )
    event = succeeded_event_for(stripe_client, intent.id)
    assert deliver(event) == 200
    assert deliver(event) == 200

    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid_by, invoice.payment_intent_id) == (
        "paid",
        "stripe",
        intent.id,
    )
    assert payments() == 1
    assert balance(f"organization:{invoice_org.public_id}:receivable:eur") == 0
    assert balance("platform:stripe_balance:eur") == DUE * 10_000
    assert reconciliation_for_date(day=timezone.now().date()).differences == []


def test_reconciliation_reports_an_invoice_charge_the_books_do_not_hold(
    catalogue, card_org, usage, finance, monkeypatch, django_capture_on_commit_callbacks,
    stripe_client,
):  # fmt: skip
    usage_of(card_org, catalogue, usage, monkeypatch)
    post_run("2026-01", finance, django_capture_on_commit_callbacks)
    assert reconciliation_for_date(day=timezone.now().date()).differences == []

    # On purpose: the same invoice charged again behind Accord's back.
    invoice = Invoice.objects.get()
    stray = stripe_client.v1.payment_intents.create(
        {
            "amount": 1_234,
            "currency": "eur",
            "customer": card_org.stripe_customer_id,
            "payment_method": card_org.stripe_payment_method_id,
            "confirm": True,
            "off_session": True,
            "metadata": {"accord_invoice": invoice.public_id},
        }
    )

    result = reconciliation_for_date(day=timezone.now().date())

    assert result.differences == [
        {
            "kind": "missing_in_ledger",
            "ledger": None,
            "stripe": stray.latest_charge,
            "amount": 1_234,
            "currency": "eur",
        }
    ]
    assert result.matched == 1
