"""Create, rotate and publish the certificate signing keys."""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from joserfc.jwk import KeySet, OKPKey

from config.api.ids import public_id
from config.db import sql_names
from licensing.certificates.models import SigningKey

KEY_CURVE = "Ed25519"


def _fernet() -> Fernet:
    derived = hashlib.sha256(b"accord-certificate-keys:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(derived))


@transaction.atomic
def signing_key_rotate() -> SigningKey:
    """Make a new signing key and retire the current one (it stays published)."""
    kid = public_id("key")
    key_pair = OKPKey.generate_key(
        KEY_CURVE, parameters={"kid": kid, "use": "sig", "alg": KEY_CURVE}
    )
    SigningKey.objects.select_for_update().filter(retired_at__isnull=True).update(
        retired_at=timezone.now()
    )
    private_jwk = json.dumps(key_pair.as_dict(private=True)).encode()
    return SigningKey.objects.create(
        kid=kid,
        public_jwk=key_pair.as_dict(private=False),
        private_jwk_encrypted=_fernet().encrypt(private_jwk),
    )


def signing_key_current() -> tuple[str, OKPKey]:
    """Return the key that signs now, making the first one on first use.

    Which key is current is read every time, so a rotation (or a rolled-back one)
    takes effect at once in every process; a key's private half never changes, so it
    is decrypted once per process.
    """
    with connection.cursor() as cursor:
        cursor.execute(_current_kid_sql())
        current = cursor.fetchone()
    kid = current[0] if current else signing_key_rotate().kid
    return kid, _private_key(kid)


@functools.cache
def _current_kid_sql() -> str:
    """The current key's id; written once, as every license's signature reads it."""
    names = sql_names(SigningKey, "kid", "retired_at", "created_at", "id")
    return (
        f"SELECT {names['kid']} FROM {names.table} WHERE {names['retired_at']} IS NULL"
        f" ORDER BY {names['created_at']} DESC, {names['id']} DESC LIMIT 1"
    )


@functools.lru_cache(maxsize=16)
def _private_key(kid: str) -> OKPKey:
    encrypted = SigningKey.objects.values_list("private_jwk_encrypted", flat=True).get(kid=kid)
    return OKPKey.import_key(json.loads(_fernet().decrypt(bytes(encrypted))))


def public_jwks() -> dict[str, Any]:
    """Every public key, current and retired, as a JWKS document."""
    return {
        "keys": [dict(row.public_jwk) for row in SigningKey.objects.order_by("created_at", "id")]
    }


def keyset_from_jwks(document: dict[str, Any]) -> KeySet:
    """Build a verification key set from a published JWKS (no private material)."""
    return KeySet.import_key_set({"keys": [dict(key) for key in document.get("keys", [])]})
