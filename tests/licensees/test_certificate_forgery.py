"""A certificate is valid only when its signed statement is the license row (issue 13 #2).

The forged certificates here are signed with Accord's real current key, as someone who
had read the key could: the signature holds, so only the comparison with the license
row can catch them, and it must name the field that was changed.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from licensing.certificates.signing import certificate_sign
from licensing.models import License
from licensing.services.organizations import organization_create
from licensing.services.purchases import license_purchase
from tests.licensees.conftest import Catalogue

pytestmark = pytest.mark.django_db


def verify(certificate: str) -> dict:
    response = Client().post(
        "/api/v1/certificates/verify",
        data={"certificate": certificate},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def signed_statement(granted: License) -> dict:
    """The statement inside the license's real certificate (its payload, base64url JSON)."""
    import base64

    payload = granted.certificate.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.fixture
def granted(catalogue: Catalogue, invoice_org) -> License:
    return license_purchase(
        organization=invoice_org, offer_id=catalogue.flat_offer.public_id, work_ids=None
    )


def test_the_real_certificate_matches_its_license(granted: License) -> None:
    answer = verify(granted.certificate)

    assert answer["valid"] is True
    assert answer["problems"] == []
    assert answer["mismatched_fields"] == []


def test_the_forged_certificate_of_the_issue_is_not_valid_and_names_each_field(
    granted: License, catalogue: Catalogue
) -> None:
    """A real license id restated for another organisation, another work, amount 1 and
    a hundred years, signed with the real key."""
    other = organization_create(slug="mallory-lab", name="Mallory Lab", billing="invoice")
    forged = signed_statement(granted)
    forged["licensee"] = {"id": other.public_id, "name": other.name}
    forged["works"] = [{"id": catalogue.solo_work.public_id, "title": "Solo", "sha256": None}]
    forged["amount"] = 1
    forged["terms"]["amount"] = 1
    forged["terms"]["term_days"] = 36_500
    forged["ends_at"] = (timezone.now() + timedelta(days=36_500)).isoformat()

    answer = verify(certificate_sign(statement=forged))

    assert answer["signature_valid"] is True
    assert answer["license"] == granted.public_id
    assert answer["license_status"] == "active"
    assert answer["valid"] is False
    assert answer["problems"] == ["statement_mismatch"]
    assert answer["mismatched_fields"] == [
        "amount",
        "ends_at",
        "licensee",
        "terms.amount",
        "terms.term_days",
        "works",
    ]


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("licensee", lambda s, c: s.update(licensee={"id": "org_forged", "name": "Invoice Lab"})),
        ("works", lambda s, c: s.update(works=[{"id": c.solo_work.public_id}])),
        ("use", lambda s, c: s.update(use="ai-input")),
        ("terms.commercial", lambda s, c: s["terms"].update(commercial=False)),
        ("terms.version", lambda s, c: s["terms"].update(version=2)),
        ("amount", lambda s, c: s.update(amount=1)),
        ("currency", lambda s, c: s.update(currency="usd")),
        ("starts_at", lambda s, c: s.update(starts_at="2001-01-01T00:00:00+00:00")),
        ("ends_at", lambda s, c: s.update(ends_at="2125-01-01T00:00:00+00:00")),
        ("granted_rights", lambda s, c: s.update(granted_rights="all")),
    ],
)
def test_each_restated_field_is_named(
    granted: License, catalogue: Catalogue, field: str, change
) -> None:
    forged = signed_statement(granted)
    change(forged, catalogue)

    answer = verify(certificate_sign(statement=forged))

    assert answer["valid"] is False
    assert answer["mismatched_fields"] == [field]


def test_what_may_change_without_changing_the_license_is_not_compared(granted: License) -> None:
    restated = signed_statement(granted)
    restated["issued_at"] = timezone.now().isoformat()
    restated["licensee"]["name"] = "Invoice Lab (renamed)"
    restated["works"][0]["title"] = "Retitled"
    # The same moment written with another offset is the same moment.
    restated["starts_at"] = granted.starts_at.astimezone(
        timezone.get_fixed_timezone(120)
    ).isoformat()

    assert verify(certificate_sign(statement=restated))["valid"] is True


def test_a_certificate_for_no_license_is_unknown(granted: License) -> None:
    forged = {**signed_statement(granted), "license": "lic_doesnotexist"}

    answer = verify(certificate_sign(statement=forged))

    assert answer["valid"] is False
    assert answer["license_status"] == "unknown"
    assert answer["problems"] == ["unknown"]


def test_the_command_names_the_field_too(
    granted: License, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    certificate_file = tmp_path / "license.jws"
    certificate_file.write_text(granted.certificate)
    call_command("verify_certificate", str(certificate_file))
    assert "certificate valid" in capsys.readouterr().out

    forged = signed_statement(granted)
    forged["amount"] = 1
    certificate_file.write_text(certificate_sign(statement=forged))
    with pytest.raises(CommandError, match="statement_mismatch, fields amount"):
        call_command("verify_certificate", str(certificate_file))
    assert "differs from the license: amount" in capsys.readouterr().out
