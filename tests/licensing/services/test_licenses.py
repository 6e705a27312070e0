"""A license's life after purchase: expiry, revocation, and what verification says of both."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from config.celery import app as celery_app
from licensing.models import License
from licensing.services.licenses import license_revoke, licenses_expire
from licensing.services.purchases import license_purchase
from licensing.tasks import licenses_expire_task
from tests.licensing.licensee_fixtures import Catalogue

pytestmark = pytest.mark.django_db


def verify(certificate: str) -> dict:
    response = Client().post(
        "/api/v1/certificates/verify",
        data={"certificate": certificate},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def granted(catalogue: Catalogue, invoice_org) -> License:
    return license_purchase(
        organization=invoice_org, offer_id=catalogue.flat_offer.public_id, work_ids=None
    )


def test_a_fresh_certificate_verifies_as_active(granted: License) -> None:
    answer = verify(granted.certificate)
    assert answer["valid"] is True
    assert answer["signature_valid"] is True
    assert answer["license"] == granted.public_id
    assert answer["license_status"] == "active"
    assert answer["problems"] == []


def test_a_revoked_license_is_reported_by_verification_and_the_api(
    granted: License, django_user_model, client_for, invoice_org
) -> None:
    staff = django_user_model.objects.create_superuser("ops", "ops@example.com", "pw")

    license_revoke(granted=granted, revoked_by=staff, reason="Licensee breached the terms")

    answer = verify(granted.certificate)
    assert answer["signature_valid"] is True
    assert answer["valid"] is False
    assert answer["license_status"] == "revoked"
    assert answer["problems"] == ["revoked"]
    body = client_for(invoice_org).get(f"/api/v1/licenses/{granted.public_id}").json()
    assert body["status"] == "revoked"
    assert body["revoked_at"] is not None


def test_revoking_needs_a_reason(granted: License, django_user_model) -> None:
    from licensing.errors import LicensingError

    staff = django_user_model.objects.create_superuser("ops", "ops@example.com", "pw")
    with pytest.raises(LicensingError):
        license_revoke(granted=granted, revoked_by=staff, reason="  ")
    granted.refresh_from_db()
    assert granted.status == License.Status.ACTIVE


def test_expiry_job_expires_only_what_has_ended(catalogue: Catalogue, invoice_org) -> None:
    ended = license_purchase(
        organization=invoice_org, offer_id=catalogue.flat_offer.public_id, work_ids=None
    )
    running = license_purchase(
        organization=invoice_org, offer_id=catalogue.pool_offer.public_id, work_ids=None
    )
    open_ended = license_purchase(
        organization=invoice_org, offer_id=catalogue.per_unit_offer.public_id, work_ids=None
    )
    License.objects.filter(pk=ended.pk).update(
        starts_at=timezone.now() - timedelta(days=400), ends_at=timezone.now() - timedelta(days=35)
    )

    assert licenses_expire() == 1
    assert licenses_expire() == 0  # a second run finds nothing left to do

    statuses = dict(License.objects.values_list("public_id", "status"))
    assert statuses == {
        ended.public_id: "expired",
        running.public_id: "active",
        open_ended.public_id: "active",
    }
    # The test moved the row's dates, so the signed statement no longer matches it either.
    assert verify(ended.certificate)["problems"] == ["expired", "statement_mismatch"]


def test_an_ended_license_reads_as_expired_before_the_job_runs(
    granted: License, client_for, invoice_org
) -> None:
    License.objects.filter(pk=granted.pk).update(
        starts_at=timezone.now() - timedelta(days=400), ends_at=timezone.now() - timedelta(days=35)
    )
    body = client_for(invoice_org).get(f"/api/v1/licenses/{granted.public_id}").json()
    assert body["status"] == "expired"


def test_expiry_never_undoes_a_revocation(granted: License, django_user_model) -> None:
    staff = django_user_model.objects.create_superuser("ops", "ops@example.com", "pw")
    license_revoke(granted=granted, revoked_by=staff, reason="Fraud")
    License.objects.filter(pk=granted.pk).update(
        starts_at=timezone.now() - timedelta(days=2), ends_at=timezone.now() - timedelta(days=1)
    )

    assert licenses_expire() == 0
    granted.refresh_from_db()
    assert granted.status == License.Status.REVOKED


def test_the_expiry_task_is_scheduled_and_runs_the_service(granted: License) -> None:
    schedule = {entry["task"] for entry in celery_app.conf.beat_schedule.values()}
    assert "licensing.tasks.licenses_expire_task" in schedule
    License.objects.filter(pk=granted.pk).update(
        starts_at=timezone.now() - timedelta(days=2), ends_at=timezone.now() - timedelta(days=1)
    )
    assert licenses_expire_task.delay().get() == 1


def test_garbage_and_unknown_licenses_are_not_valid(granted: License) -> None:
    assert verify("not-a-certificate")["problems"] == ["malformed"]
    header, payload, signature = granted.certificate.split(".")
    tampered = verify(f"{header}.{payload[:-4]}AAAA.{signature}")
    assert tampered["valid"] is False
    assert tampered["signature_valid"] is False
    assert tampered["license"] is None


def test_verification_is_public_and_rate_limited_per_address(
    granted: License, settings, one_rate_window
) -> None:
    settings.ACCORD_RATE_LIMITS = {**settings.ACCORD_RATE_LIMITS, "public": "2/min"}
    client = Client(REMOTE_ADDR="203.0.113.7")
    statuses = [
        client.post(
            "/api/v1/certificates/verify",
            data={"certificate": granted.certificate},
            content_type="application/json",
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
