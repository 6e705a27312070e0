"""`verify_certificate` and the verify endpoint know a dataset clearance's certificate.

Forgeries are signed with Accord's real key, as someone who had read it could: the
signature holds, so only the comparison with the clearance's rows can catch them.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from licensing.certificates.signing import certificate_sign
from licensing.models import Clearance, License, LicenseeOrganization
from licensing.services.clearance_purchases import clearance_purchase
from licensing.services.clearances import clearance_create
from licensing.services.licenses import license_revoke
from tests.licensing.clearance_catalogue import (
    USE,
    ClearanceCatalogue,
    clearance_catalogue,
    mixed_manifest,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(db: Any) -> ClearanceCatalogue:
    return clearance_catalogue()


@pytest.fixture
def purchased(catalogue: ClearanceCatalogue, invoice_org: LicenseeOrganization) -> Clearance:
    clearance = clearance_create(organization=invoice_org, use=USE, items=mixed_manifest(catalogue))
    clearance_purchase(organization=invoice_org, clearance_id=clearance.public_id)
    clearance.refresh_from_db()
    return clearance


def verify(certificate: str) -> dict[str, Any]:
    response = Client().post(
        "/api/v1/certificates/verify",
        data={"certificate": certificate},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def statement_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_the_real_certificate_is_valid_and_names_its_clearance(purchased: Clearance) -> None:
    answer = verify(purchased.certificate)

    assert (answer["valid"], answer["problems"], answer["mismatched_fields"]) == (True, [], [])
    assert (answer["clearance"], answer["clearance_status"]) == (purchased.public_id, "purchased")
    assert answer["license"] is None
    assert answer["inactive_licenses"] == []


@pytest.mark.parametrize(
    ("field", "forge"),
    [
        ("items", lambda s: s["items"].__setitem__(0, [s["items"][0][0], "unknown"])),
        ("manifest_sha256", lambda s: s.__setitem__("manifest_sha256", "0" * 64)),
        ("amount", lambda s: s.__setitem__("amount", 1)),
        ("counts.reserved", lambda s: s["counts"].__setitem__("reserved", 0)),
        ("licensee", lambda s: s.__setitem__("licensee", {"id": "org_other", "name": "x"})),
        ("use", lambda s: s.__setitem__("use", "ai-eval")),
    ],
)
def test_a_restated_clearance_names_the_field(purchased: Clearance, field: str, forge) -> None:
    forged = statement_of(purchased.certificate)
    forge(forged)

    answer = verify(certificate_sign(statement=forged))

    assert answer["signature_valid"] is True
    assert answer["valid"] is False
    assert answer["problems"] == ["statement_mismatch"]
    assert answer["mismatched_fields"] == [field]


def test_a_revoked_license_it_names_makes_it_invalid(
    catalogue: ClearanceCatalogue, purchased: Clearance
) -> None:
    staff = get_user_model().objects.create_user(username="ops", is_staff=True, is_superuser=True)
    revoked = License.objects.get(offer_version__offer=catalogue.isbn_cheap)
    license_revoke(granted=revoked, revoked_by=staff, reason="Rights disputed")

    answer = verify(purchased.certificate)

    assert answer["valid"] is False
    assert answer["problems"] == ["revoked"]
    assert answer["inactive_licenses"] == [revoked.public_id]


def test_an_unknown_or_unpurchased_clearance_is_not_valid(
    catalogue: ClearanceCatalogue, invoice_org: LicenseeOrganization, purchased: Clearance
) -> None:
    forged = {**statement_of(purchased.certificate), "clearance": "clr_doesnotexist"}
    answer = verify(certificate_sign(statement=forged))
    assert (answer["valid"], answer["problems"]) == (False, ["unknown_clearance"])

    ready = clearance_create(organization=invoice_org, use=USE, items=["sha256:" + "a" * 64])
    forged = {**statement_of(purchased.certificate), "clearance": ready.public_id}
    answer = verify(certificate_sign(statement=forged))
    assert (answer["valid"], answer["problems"]) == (False, ["not_purchased"])
    assert answer["clearance_status"] == "ready"


def test_the_command_verifies_a_clearance_certificate(
    purchased: Clearance, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    certificate_file = tmp_path / "clearance.jws"
    certificate_file.write_text(purchased.certificate)

    call_command("verify_certificate", str(certificate_file))

    out = capsys.readouterr().out
    assert f'clearance: "{purchased.public_id}"' in out
    assert f'manifest_sha256: "{purchased.manifest_sha256}"' in out
    assert "clearance status: purchased" in out
    assert out.rstrip().endswith("certificate valid")

    forged = statement_of(purchased.certificate)
    forged["amount"] = 1
    certificate_file.write_text(certificate_sign(statement=forged))
    with pytest.raises(CommandError, match="statement_mismatch, fields amount"):
        call_command("verify_certificate", str(certificate_file))
    assert "differs from the clearance: amount" in capsys.readouterr().out
