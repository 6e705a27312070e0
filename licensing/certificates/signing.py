"""Sign a statement as a compact JWS, and check one with nothing but a JWKS.

`certificate_verify` needs no database: an auditor can run the same checks with the
published JWKS and any JOSE library. What a certificate cannot say offline (that a
license was revoked after it was issued, or that its statement is not the license's)
is for the online check in `verification.py`.

The header names `EdDSA` (RFC 8037): PyJWT and jwcrypto verify it at their defaults and
joserfc when the verifier allows it by name. Certificates signed before carry the
RFC 9864 name `Ed25519`; they still verify here.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from joserfc import jws
from joserfc.errors import BadSignatureError, DecodeError, JoseError, SecurityWarning

from licensing.certificates.keys import JWS_ALGORITHM, keyset_from_jwks, signing_key_current

ALGORITHM = JWS_ALGORITHM
# Certificates signed before the switch to EdDSA name the algorithm as RFC 9864 does.
LEGACY_ALGORITHM = "Ed25519"
CERTIFICATE_TYPE = "accord-license+jws"


@contextmanager
def _eddsa_allowed() -> Iterator[None]:
    """joserfc warns that RFC 9864 deprecates `EdDSA`; we use it on purpose (see above)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)
        yield


def certificate_sign(*, statement: dict[str, Any]) -> str:
    """Sign the statement with the current key; the JSON is canonical, so reproducible."""
    kid, key = signing_key_current()
    header = {"alg": ALGORITHM, "kid": kid, "typ": CERTIFICATE_TYPE}
    payload = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()
    with _eddsa_allowed():
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
    algorithm = header.get("alg")
    if algorithm not in (ALGORITHM, LEGACY_ALGORITHM) or header.get("typ") != CERTIFICATE_TYPE:
        return CertificateCheck(signature_valid=False, kid=kid, problems=["unexpected_header"])
    published = [key for key in jwks.get("keys", []) if isinstance(key, dict)]
    if kid is None or kid not in {key.get("kid") for key in published}:
        return CertificateCheck(signature_valid=False, kid=kid, problems=["unknown_key"])
    try:
        # The published key says `EdDSA`; a legacy certificate's header names the same
        # signature `Ed25519`, so its key is offered under that name for this check.
        keyset = keyset_from_jwks({"keys": [{**key, "alg": algorithm} for key in published]})
        with _eddsa_allowed():
            verified = jws.deserialize_compact(token, keyset, algorithms=[algorithm])
        statement = json.loads(verified.payload)
    except (BadSignatureError, DecodeError, JoseError, ValueError, TypeError, KeyError):
        return CertificateCheck(signature_valid=False, kid=kid, problems=["bad_signature"])
    if not isinstance(statement, dict):
        return CertificateCheck(signature_valid=True, kid=kid, problems=["malformed_statement"])
    return CertificateCheck(
        signature_valid=True, kid=kid, statement=statement, problems=_term_problems(statement, at)
    )
