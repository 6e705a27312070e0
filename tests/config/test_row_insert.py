"""An INSERT compiled once stores exactly what `save()` stores, and never skips a receiver."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone

from config.api.models import IdempotencyRecord
from config.row_insert import RowInsert
from licensing import services
from licensing.models import Work
from payouts.models import StripeEvent

pytestmark = pytest.mark.django_db


def _stored(model: type[Model], pk: int, *ignored: str) -> dict[str, Any]:
    row = model.objects.get(pk=pk)
    return {
        field.attname: getattr(row, field.attname)
        for field in model._meta.concrete_fields
        if field.attname not in ("id", *ignored)
    }


def test_the_row_is_stored_as_save_stores_it() -> None:
    def event(stripe_id: str) -> StripeEvent:
        return StripeEvent(
            stripe_id=stripe_id,
            type="payment_intent.succeeded",
            created=timezone.now(),
            payload={"data": {"object": {"id": "pi_1", "amount": 1250}}},
        )

    saved, inserted = event("evt_saved"), event("evt_inserted")
    inserted.created = saved.created
    inserted.received_at = saved.received_at
    saved.save(force_insert=True)

    RowInsert(StripeEvent).insert(inserted)

    assert inserted.pk is not None
    assert inserted.pk != saved.pk
    assert inserted._state.adding is False
    assert _stored(StripeEvent, inserted.pk, "stripe_id") == _stored(
        StripeEvent, saved.pk, "stripe_id"
    )
    assert StripeEvent.objects.get(pk=inserted.pk).payload == {
        "data": {"object": {"id": "pi_1", "amount": 1250}}
    }


def test_auto_now_add_is_set_as_save_sets_it() -> None:
    record = IdempotencyRecord(
        scope_digest="a" * 64, key="k-1", request_digest="b" * 64, locked_at=timezone.now()
    )
    before = timezone.now()

    RowInsert(IdempotencyRecord).insert(record)

    assert record.created_at is not None
    assert record.created_at >= before
    assert IdempotencyRecord.objects.get(pk=record.pk).created_at == record.created_at


def test_a_unique_conflict_is_djangos_integrity_error_and_writes_nothing() -> None:
    def record() -> IdempotencyRecord:
        return IdempotencyRecord(
            scope_digest="c" * 64, key="same", request_digest="d" * 64, locked_at=timezone.now()
        )

    RowInsert(IdempotencyRecord).insert(record())
    with pytest.raises(IntegrityError), transaction.atomic():
        RowInsert(IdempotencyRecord).insert(record())
    assert IdempotencyRecord.objects.filter(key="same").count() == 1


def test_a_model_with_an_audit_history_is_saved_with_its_receivers() -> None:
    creator = services.creator_create(username="row-insert", password=None)
    work = Work(creator=creator, title="Audited", kind="text")

    RowInsert(Work).insert(work)

    assert work.history.count() == 1  # simple_history's post_save receiver ran


def test_a_saved_instance_is_refused() -> None:
    record = IdempotencyRecord(
        scope_digest="e" * 64, key="k-2", request_digest="f" * 64, locked_at=timezone.now()
    )
    record.save()
    with pytest.raises(AssertionError, match="saved already"):
        RowInsert(IdempotencyRecord).insert(record)
