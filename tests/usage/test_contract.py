"""The usage → royalty-run contract: sums per (license, work), adjustments, flags, closing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from licensing.models import UsageCorrection, UsageEvent, UsageEventKey, UsagePeriod
from licensing.periods import period_of
from licensing.selectors.usage import (
    FlaggedUsage,
    LicenseWorkUnits,
    usage_adjustments_for_period,
    usage_flagged_for_period,
    usage_units_for_period,
)
from licensing.services.purchases import license_purchase
from licensing.services.usage import usage_period_close
from licensing.services.usage_partitions import partition_name, usage_partitions_ensure


def _event(organization, license_, work, units, occurred_at, *, flag=None, event_id=None):
    """Store one event the way the ingest does: its key first, the event under the key's id."""
    period = period_of(occurred_at)
    usage_partitions_ensure(periods=[period])
    key = UsageEventKey.objects.create(
        organization=organization,
        event_id=event_id or f"e-{UsageEventKey.objects.count()}",
        occurred_at=occurred_at,
        period=period,
        created_at=timezone.now(),
    )
    return UsageEvent.objects.create(
        id=key.id,
        organization=organization,
        event_id=key.event_id,
        license=license_,
        work=work,
        use="ai-eval",
        unit="token",
        units=units,
        occurred_at=occurred_at,
        period=period,
        flag=flag,
        created_at=timezone.now(),
    )


@pytest.fixture
def per_unit_license(catalogue, invoice_org):
    return license_purchase(
        organization=invoice_org, offer_id=catalogue.per_unit_offer.public_id, work_ids=None
    )


def _at(period: str, day: int = 10) -> dt.datetime:
    return dt.datetime(int(period[:4]), int(period[5:]), day, 12, tzinfo=dt.UTC)


def test_units_are_summed_per_license_and_work_for_the_period_only(
    catalogue, invoice_org, per_unit_license
):
    solo = catalogue.solo_work
    _event(invoice_org, per_unit_license, solo, 100, _at("2026-10", 1))
    _event(invoice_org, per_unit_license, solo, 23, _at("2026-10", 31))
    _event(invoice_org, per_unit_license, solo, 7, _at("2026-11", 1))
    _event(invoice_org, per_unit_license, solo, 1_000, _at("2026-10"), flag="unlicensed")

    assert usage_units_for_period(period="2026-10") == [
        LicenseWorkUnits(license_id=per_unit_license.pk, work_id=solo.pk, units=123)
    ]
    assert usage_units_for_period(period="2026-11") == [
        LicenseWorkUnits(license_id=per_unit_license.pk, work_id=solo.pk, units=7)
    ]
    assert usage_units_for_period(period="2026-12") == []


def test_month_bounds_are_utc(catalogue, invoice_org, per_unit_license):
    last_instant = dt.datetime(2026, 10, 31, 23, 59, 59, 999_999, tzinfo=dt.UTC)
    # 01:30 on 1 November in Paris is still October in UTC.
    paris = dt.datetime(2026, 11, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    _event(invoice_org, per_unit_license, catalogue.solo_work, 5, last_instant)
    _event(invoice_org, per_unit_license, catalogue.solo_work, 6, paris)

    assert [line.units for line in usage_units_for_period(period="2026-10")] == [11]


def test_adjustments_are_separate_signed_rows(catalogue, invoice_org, per_unit_license):
    event = _event(invoice_org, per_unit_license, catalogue.solo_work, 100, _at("2026-10"))
    key = UsageEventKey.objects.get(pk=event.pk)
    for before, after in ((100, 60), (60, 50)):
        UsageCorrection.objects.create(
            key=key,
            organization=invoice_org,
            license=per_unit_license,
            work=catalogue.solo_work,
            kind=UsageCorrection.Kind.ADJUSTMENT,
            event_period="2026-10",
            period="2026-11",
            units_before=before,
            units_after=after,
            units_delta=after - before,
            reason="recount",
            created_at=timezone.now(),
        )

    assert usage_adjustments_for_period(period="2026-11") == [
        LicenseWorkUnits(license_id=per_unit_license.pk, work_id=catalogue.solo_work.pk, units=-50)
    ]
    assert usage_adjustments_for_period(period="2026-10") == []
    # The closed period's own units are untouched by its later adjustments.
    assert usage_units_for_period(period="2026-10")[0].units == 100


def test_flagged_usage_is_counted_per_organization_work_and_flag(
    catalogue, invoice_org, per_unit_license
):
    reserved = catalogue.reserved_work
    _event(invoice_org, per_unit_license, reserved, 4, _at("2026-10"), flag="reserved")
    _event(invoice_org, per_unit_license, reserved, 6, _at("2026-10"), flag="reserved")
    _event(
        invoice_org, per_unit_license, catalogue.shared_work, 1, _at("2026-10"), flag="unlicensed"
    )
    _event(invoice_org, per_unit_license, catalogue.solo_work, 9, _at("2026-10"))

    assert usage_flagged_for_period(period="2026-10") == sorted(
        [
            FlaggedUsage(invoice_org.pk, reserved.pk, "reserved", events=2, units=10),
            FlaggedUsage(invoice_org.pk, catalogue.shared_work.pk, "unlicensed", 1, 1),
        ],
        key=lambda row: (row.organization_id, row.work_id, row.flag),
    )


def test_close_is_idempotent_and_keeps_the_first_time(db):
    first = usage_period_close(period="2026-10", at=_at("2026-11", 2))
    again = usage_period_close(period="2026-10", at=_at("2026-12", 2))

    assert again.pk == first.pk
    assert again.closed_at == _at("2026-11", 2)
    assert UsagePeriod.objects.count() == 1


def test_close_refuses_a_malformed_period(db):
    from licensing.errors import LicensingError

    for period in ("2026-13", "2026-1", "26-10", ""):
        with pytest.raises(LicensingError):
            usage_period_close(period=period)
    assert UsagePeriod.objects.count() == 0


def test_close_usage_period_command(db, capsys):
    call_command("close_usage_period", "2026-09")

    assert UsagePeriod.objects.filter(period="2026-09").exists()
    assert capsys.readouterr().out.startswith("2026-09 closed at ")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions exist on PostgreSQL")
def test_events_table_is_partitioned_by_month(catalogue, invoice_org, per_unit_license):
    _event(invoice_org, per_unit_license, catalogue.solo_work, 1, _at("2019-03"))

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT partstrat FROM pg_partitioned_table"
            " WHERE partrelid = 'licensing_usageevent'::regclass"
        )
        assert cursor.fetchone() == ("r",)
        cursor.execute("SELECT count(*) FROM ONLY " + partition_name("2019-03"))
        assert cursor.fetchone() == (1,)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions exist on PostgreSQL")
def test_the_beat_job_makes_this_month_and_three_ahead(db):
    from licensing.tasks import usage_partitions_ahead_task

    usage_partitions_ahead_task()

    today = period_of(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [partition_name(today)])
        assert cursor.fetchone()[0] is not None
