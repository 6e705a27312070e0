"""Every job Celery beat is told to run names a task that exists."""

from config.celery import app


def test_every_scheduled_task_is_registered() -> None:
    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert scheduled == {
        "ledger.tasks.ledger_seal_task",
        "licensing.tasks.licenses_expire_task",
        "licensing.tasks.usage_partitions_ahead_task",
        "config.api.tasks.idempotency_records_purge_task",
        "payouts.tasks.royalty_runs_resume_task",
        "payouts.stripe.tasks.stripe_events_pending_process_task",
        "payouts.tasks.reconciliation_daily_task",
        "payouts.tasks.invoices_charge_due_task",
    }
    assert scheduled <= set(app.tasks)
