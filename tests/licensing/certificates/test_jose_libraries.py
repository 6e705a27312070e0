"""Certificates verify with the common JOSE libraries, from the published JWKS alone (issue 19 #5).

PyJWT and jwcrypto are used at their defaults (no algorithm named by the verifier);
joserfc allows only HS256/RS256/ES256 unless told, so it is told `EdDSA`, as
docs/licensees.md tells verifiers. A certificate from before the switch (header
`Ed25519`, RFC 9864) still verifies with Accord's own check.
"""

from __future__ import annotations

import json
from datetime import timedelta

import jwt
import pytest
from django.test import Client
from django.utils import timezone
from joserfc import jws as joserfc_jws
from joserfc.errors import UnsupportedAlgorithmError
from joserfc.jwk import KeySet, OKPKey
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws
from jwcrypto.common import JWKeyNotFound

from licensing.certificates.keys import signing_key_current, signing_key_rotate
from licensing.certificates.signing import CERTIFICATE_TYPE, certificate_sign, certificate_verify

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:EdDSA is deprecated via RFC 9864"),
]


def statement() -> dict:
    now = timezone.now()
    return {
        "license": "lic_jose",
        "use": "ai-train",
        "starts_at": (now - timedelta(days=1)).isoformat(),
        "ends_at": (now + timedelta(days=30)).isoformat(),
    }


def published_jwks() -> dict:
    return Client().get("/.well-known/accord-keys.json").json()


@pytest.fixture
def token() -> str:
    # Two keys published, so each library must pick the right one by `kid`.
    signing_key_rotate()
    signing_key_rotate()
    return certificate_sign(statement=statement())


def test_the_header_and_the_jwks_name_eddsa(token: str) -> None:
    header = jwt.get_unverified_header(token)
    jwks = published_jwks()

    assert header["alg"] == "EdDSA"
    assert header["typ"] == CERTIFICATE_TYPE
    assert [key["alg"] for key in jwks["keys"]] == ["EdDSA", "EdDSA"]
    assert header["kid"] == jwks["keys"][-1]["kid"]


def test_pyjwt_verifies_at_its_defaults(token: str) -> None:
    keys = jwt.PyJWKSet.from_dict(published_jwks())
    key = keys[jwt.get_unverified_header(token)["kid"]]

    claims = jwt.decode(token, key)  # no `algorithms`: PyJWT takes the JWK's own `alg`

    assert claims["license"] == "lic_jose"


def test_jwcrypto_verifies_at_its_defaults(token: str) -> None:
    keyset = jwcrypto_jwk.JWKSet.from_json(json.dumps(published_jwks()))
    verified = jwcrypto_jws.JWS()

    verified.deserialize(token, keyset)  # default allowed algorithms; key chosen by kid

    assert json.loads(verified.payload)["license"] == "lic_jose"


def test_joserfc_verifies_when_told_eddsa_and_refuses_by_default(token: str) -> None:
    keyset = KeySet.import_key_set(published_jwks())

    verified = joserfc_jws.deserialize_compact(token, keyset, algorithms=["EdDSA"])

    assert json.loads(verified.payload)["license"] == "lic_jose"
    with pytest.raises(UnsupportedAlgorithmError):
        joserfc_jws.deserialize_compact(token, keyset)


def test_a_changed_payload_fails_in_every_library(token: str) -> None:
    header, payload, signature = token.split(".")
    changed = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    tampered = f"{header}.{changed}.{signature}"
    jwks = published_jwks()

    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(tampered, jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(token)["kid"]])
    # With a key set, jwcrypto reports that no key verifies the signature.
    with pytest.raises((jwcrypto_jws.InvalidJWSSignature, JWKeyNotFound)):
        jwcrypto_jws.JWS().deserialize(tampered, jwcrypto_jwk.JWKSet.from_json(json.dumps(jwks)))
    assert certificate_verify(tampered, jwks=jwks).problems == ["bad_signature"]


def test_a_certificate_signed_before_the_switch_still_verifies() -> None:
    kid, key = signing_key_current()
    # The same private key, as the keys were made then: designed for `Ed25519`.
    key = OKPKey.import_key({**key.as_dict(private=True), "alg": "Ed25519"})
    legacy = joserfc_jws.serialize_compact(
        {"alg": "Ed25519", "kid": kid, "typ": CERTIFICATE_TYPE},
        json.dumps(statement()).encode(),
        key,
        algorithms=["Ed25519"],
    )

    check = certificate_verify(legacy, jwks=published_jwks())

    assert check.valid, check.problems
    assert check.statement["license"] == "lic_jose"
