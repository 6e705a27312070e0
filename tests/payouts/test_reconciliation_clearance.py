"""Reconciliation of a card clearance: one charge pays one sale per offer (issue 20's
simulation found every such day reported as differences)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from licensing.models import License
from licensing.services.clearance_purchases import clearance_purchase
from licensing.services.clearances import clearance_create
from payouts.selectors.reconciliation import reconciliation_for_date
from tests.licensing.clearance_catalogue import USE, clearance_catalogue, mixed_manifest

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_sandbox_settings")]


def test_one_charge_for_a_clearances_licenses_reconciles_without_differences(
    card_org: Any,
) -> None:
    catalogue = clearance_catalogue()
    clearance = clearance_create(organization=card_org, use=USE, items=mixed_manifest(catalogue))
    bought = clearance_purchase(organization=card_org, clearance_id=clearance.public_id)
    licenses = License.objects.filter(public_id__in=bought.licenses)
    assert licenses.count() >= 2, "the clearance pays several sales with one charge"
    assert len({lic.purchase.payment_intent_id for lic in licenses}) == 1

    result = reconciliation_for_date(day=datetime.datetime.now(datetime.UTC).date())

    assert result.differences == []
    assert result.matched == licenses.filter(amount__gt=0).count()
