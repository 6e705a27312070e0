"""Certificates verify with nothing but the published JWKS, across key rotations."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone
from joserfc import jws
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet

from licensing.certificates.keys import signing_key_rotate
from licensing.certificates.models import SigningKey
from licensing.certificates.signing import certificate_sign, certificate_verify

pytestmark = pytest.mark.django_db


def statement(**overrides: object) -> dict:
    now = timezone.now()
    return {
        "license": "lic_test",
        "licensee": {"id": "org_test", "name": "Test Lab"},
        "use": "ai-train",
        "works": [{"id": "wrk_1", "sha256": "ab" * 32}],
        "starts_at": (now - timedelta(days=1)).isoformat(),
        "ends_at": (now + timedelta(days=30)).isoformat(),
        **overrides,
    }


def published_jwks() -> dict:
    response = Client().get("/.well-known/accord-keys.json")
    assert response.status_code == 200
    return response.json()


def test_certificate_verifies_with_only_the_published_jwks_and_joserfc() -> None:
    token = certificate_sign(statement=statement())
    keyset = KeySet.import_key_set(published_jwks())

    verified = jws.deserialize_compact(token, keyset, algorithms=["EdDSA"])

    assert json.loads(verified.payload)["license"] == "lic_test"
    assert verified.headers()["typ"] == "accord-license+jws"


def test_one_changed_byte_is_rejected() -> None:
    token = certificate_sign(statement=statement())
    keyset = KeySet.import_key_set(published_jwks())
    header, payload, signature = token.split(".")
    # Flip one character of the payload (still valid base64url) and of the signature.
    tampered_payload = ".".join(
        [header, payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1], signature]
    )
    tampered_signature = ".".join(
        [header, payload, ("A" if signature[0] != "A" else "B") + signature[1:]]
    )

    for tampered in (tampered_payload, tampered_signature):
        with pytest.raises((BadSignatureError, ValueError)):
            jws.deserialize_compact(tampered, keyset, algorithms=["EdDSA"])
        assert certificate_verify(tampered, jwks=published_jwks()).valid is False


def test_jwks_publishes_public_keys_only() -> None:
    certificate_sign(statement=statement())
    (key,) = published_jwks()["keys"]
    assert key["kty"] == "OKP"
    assert key["crv"] == "Ed25519"
    assert "d" not in key


def test_rotation_keeps_old_certificates_verifiable() -> None:
    old_token = certificate_sign(statement=statement(license="lic_old"))
    signing_key_rotate()
    new_token = certificate_sign(statement=statement(license="lic_new"))
    jwks = published_jwks()

    old_check = certificate_verify(old_token, jwks=jwks)
    new_check = certificate_verify(new_token, jwks=jwks)

    assert len(jwks["keys"]) == 2
    assert old_check.valid
    assert new_check.valid
    assert old_check.kid != new_check.kid
    assert SigningKey.objects.filter(retired_at__isnull=True).count() == 1


def test_unknown_key_and_garbage_are_reported() -> None:
    token = certificate_sign(statement=statement())
    assert certificate_verify(token, jwks={"keys": []}).problems == ["unknown_key"]
    assert certificate_verify("not.a.jws", jwks=published_jwks()).problems == ["malformed"]


def test_term_is_checked_at_the_given_time() -> None:
    token = certificate_sign(statement=statement())
    jwks = published_jwks()
    later = timezone.now() + timedelta(days=31)
    earlier = timezone.now() - timedelta(days=2)
    assert certificate_verify(token, jwks=jwks, at=later).problems == ["expired"]
    assert certificate_verify(token, jwks=jwks, at=earlier).problems == ["not_yet_valid"]


def test_verify_certificate_command(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    certificate_file = tmp_path / "license.jws"
    certificate_file.write_text(certificate_sign(statement=statement()))
    jwks_file = tmp_path / "keys.json"
    jwks_file.write_text(json.dumps(published_jwks()))

    # The signature and term hold, but no license lic_test exists to match the statement
    # (tests/licensing/certificates/test_certificate_forgery.py checks real licenses).
    with pytest.raises(CommandError, match="unknown"):
        call_command("verify_certificate", str(certificate_file), "--jwks", str(jwks_file))
    assert "signature: valid" in capsys.readouterr().out

    certificate_file.write_text(certificate_file.read_text()[:-3] + "AAA")
    with pytest.raises(CommandError, match="bad_signature"):
        call_command("verify_certificate", str(certificate_file))
