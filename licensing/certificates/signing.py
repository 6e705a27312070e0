"""Sign a statement as a compact JWS, and check one with nothing but a JWKS.

`certificate_verify` needs no database: an auditor can run the same checks with the
published JWKS and any JOSE library. What a certificate cannot say offline (that a
license was revoked after it was issued) is for the online status check.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from joserfc import jws
from joserfc.errors import BadSignatureError, DecodeError, JoseError

from licensing.certificates.keys import keyset_from_jwks, signing_key_current

ALGORITHM = "Ed25519"
CERTIFICATE_TYPE = "accord-license+jws"


def certificate_sign(*, statement: dict[str, Any]) -> str:
    """Sign the statement with the current key; the JSON is canonical, so reproducible."""
    kid, key = signing_key_current()
    header = {"alg": ALGORITHM, "kid": kid, "typ": CERTIFICATE_TYPE}
    payload = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()
    return jws.serialize_compact(header, payload, key, algorithms=[ALGORITHM])


@dataclass(frozen=True)
class CertificateCheck:
    """What an offline check of a certificate found."""

    signature_valid: bool
    kid: str | None = None
    statement: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.signature_valid and not self.problems


def _term_problems(statement: dict[str, Any], at: datetime) -> list[str]:
    problems = []
    starts_at = parse_datetime(str(statement.get("starts_at") or ""))
    ends_at = (
        parse_datetime(str(statement.get("ends_at") or "")) if statement.get("ends_at") else None
    )
    if starts_at is None:
        problems.append("malformed_statement")
    elif at < starts_at:
        problems.append("not_yet_valid")
    if ends_at is not None and at >= ends_at:
        problems.append("expired")
    return problems


def certificate_verify(
    token: str, *, jwks: dict[str, Any], at: datetime | None = None
) -> CertificateCheck:
    """Check the signature against the published keys and the license term at `at`."""
    at = at or timezone.now()
    token = token.strip()
    try:
        header = jws.extract_compact(token.encode()).headers()
    except (DecodeError, JoseError, ValueError):
        return CertificateCheck(signature_valid=False, problems=["malformed"])
    kid = header.get("kid")
    if header.get("alg") != ALGORITHM or header.get("typ") != CERTIFICATE_TYPE:
        return CertificateCheck(signature_valid=False, kid=kid, problems=["unexpected_header"])
    published_kids = {key.get("kid") for key in jwks.get("keys", [])}
    if kid is None or kid not in published_kids:
        return CertificateCheck(signature_valid=False, kid=kid, problems=["unknown_key"])
    keyset = keyset_from_jwks(jwks)
    try:
        verified = jws.deserialize_compact(token, keyset, algorithms=[ALGORITHM])
        statement = json.loads(verified.payload)
    except (BadSignatureError, DecodeError, JoseError, ValueError):
        return CertificateCheck(signature_valid=False, kid=kid, problems=["bad_signature"])
    if not isinstance(statement, dict):
        return CertificateCheck(signature_valid=True, kid=kid, problems=["malformed_statement"])
    return CertificateCheck(
        signature_valid=True, kid=kid, statement=statement, problems=_term_problems(statement, at)
    )
