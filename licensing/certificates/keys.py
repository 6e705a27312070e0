"""Create, rotate and publish the certificate signing keys, and keep their private halves sealed.

The private half of each Ed25519 key is stored encrypted with Fernet under
`ACCORD_SIGNING_KEY_ENCRYPTION_KEYS`, a secret of its own: `SECRET_KEY` (which every
Django process and many libraries touch) no longer protects it, so knowing it and
reading the database is not enough to sign. The first configured key encrypts, every
configured key decrypts (MultiFernet), which is how the encryption key is rotated:
put a new key first, run `manage.py signing_key_reencrypt`, then drop the old one.

Keys sealed before the separate setting existed were encrypted under a key derived from
`SECRET_KEY`; they still decrypt (with a warning in the log) until
`signing_key_reencrypt` seals them under the new setting.

JWS algorithm: `EdDSA` (RFC 8037), the name JOSE libraries implement for Ed25519
(PyJWT, jwcrypto, joserfc). RFC 9864 (2025) renames it `Ed25519`, which PyJWT cannot
load yet; docs/licensees.md tells verifiers which name to allow.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import logging
import time
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from joserfc.jwk import KeySet, OKPKey

from config.api.ids import public_id
from config.db import current_database
from licensing.certificates.models import SigningKey

KEY_CURVE = "Ed25519"
JWS_ALGORITHM = "EdDSA"

logger = logging.getLogger(__name__)

CURRENT_KEY_SECONDS = 5.0
_clock = time.monotonic  # tests move it
# Per database: the current key's id, and until when (on `_clock`) it may be used.
_current_kid: dict[tuple[str, str], tuple[str, float]] = {}


def _legacy_fernet() -> Fernet:
    """The key that sealed signing keys before they had their own (derived from SECRET_KEY)."""
    derived = hashlib.sha256(b"accord-certificate-keys:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(derived))


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in settings.ACCORD_SIGNING_KEY_ENCRYPTION_KEYS])


def private_jwk_seal(private_jwk: bytes) -> bytes:
    """Encrypt a private JWK under the primary signing-key encryption key."""
    return _fernet().encrypt(private_jwk)


def private_jwk_unseal(sealed: bytes, *, kid: str) -> bytes:
    """Decrypt a private JWK with any configured key, else the legacy SECRET_KEY-derived one."""
    try:
        return _fernet().decrypt(sealed)
    except InvalidToken:
        pass
    try:
        opened = _legacy_fernet().decrypt(sealed)
    except InvalidToken:
        raise SigningKeyUnreadable(
            f"signing key {kid} decrypts with none of ACCORD_SIGNING_KEY_ENCRYPTION_KEYS"
        ) from None
    logger.warning(
        "signing key %s is still sealed under SECRET_KEY; run manage.py signing_key_reencrypt",
        kid,
    )
    return opened


class SigningKeyUnreadable(Exception):
    """A signing key's private half decrypts with no configured encryption key."""


@transaction.atomic
def signing_key_rotate() -> SigningKey:
    """Make a new signing key and retire the current one (it stays published)."""
    kid = public_id("key")
    key_pair = OKPKey.generate_key(
        KEY_CURVE, parameters={"kid": kid, "use": "sig", "alg": JWS_ALGORITHM}
    )
    SigningKey.objects.select_for_update().filter(retired_at__isnull=True).update(
        retired_at=timezone.now()
    )
    private_jwk = json.dumps(key_pair.as_dict(private=True)).encode()
    transaction.on_commit(signing_key_cache_clear)  # this process signs with it at once
    return SigningKey.objects.create(
        kid=kid,
        public_jwk=key_pair.as_dict(private=False),
        private_jwk_encrypted=private_jwk_seal(private_jwk),
    )


def signing_key_current() -> tuple[str, OKPKey]:
    """Return the key that signs now, making the first one on first use.

    Which key is current is read at most once every `CURRENT_KEY_SECONDS` per process
    (every license's certificate asks, and the read was a twentieth of a purchase's
    CPU): a rotation applies at once in the process that made it and within that
    time in the others, whose certificates meanwhile carry the retired key, which
    stays published and verifies. Only a key read by a transaction that committed
    is kept, so a key made in one that rolled back is never used. A key's private
    half never changes, so it is decrypted once per process.
    """
    database = current_database()
    cached = _current_kid.get(database)
    if cached is not None and _clock() < cached[1]:
        return cached[0], _private_key(cached[0])
    current = (
        SigningKey.objects.filter(retired_at__isnull=True)
        .order_by("-created_at", "-id")
        .values_list("kid", flat=True)
        .first()
    )
    kid = current or signing_key_rotate().kid
    read_at = _clock()

    def remember() -> None:
        _current_kid[database] = (kid, read_at + CURRENT_KEY_SECONDS)

    transaction.on_commit(remember)
    return kid, _private_key(kid)


def signing_key_cache_clear() -> None:
    """Forget which key is current (after a rotation here, or the tables were emptied)."""
    _current_kid.clear()


@functools.lru_cache(maxsize=16)
def _private_key(kid: str) -> OKPKey:
    encrypted = SigningKey.objects.values_list("private_jwk_encrypted", flat=True).get(kid=kid)
    private_jwk = json.loads(private_jwk_unseal(bytes(encrypted), kid=kid))
    # Keys made before the switch to EdDSA name the curve as their algorithm.
    private_jwk["alg"] = JWS_ALGORITHM
    return OKPKey.import_key(private_jwk)


@transaction.atomic
def signing_keys_reencrypt() -> int:
    """Seal every signing key under the primary encryption key; return how many changed.

    Run after putting a new key first in ACCORD_SIGNING_KEY_ENCRYPTION_KEYS, or once after
    upgrading from keys sealed under SECRET_KEY. Idempotent: a second run changes nothing
    but the tokens' timestamps.
    """
    resealed = 0
    for key in SigningKey.objects.select_for_update().order_by("id"):
        private_jwk = private_jwk_unseal(bytes(key.private_jwk_encrypted), kid=key.kid)
        key.private_jwk_encrypted = private_jwk_seal(private_jwk)
        key.save(update_fields=["private_jwk_encrypted"])
        resealed += 1
    _private_key.cache_clear()
    return resealed


def public_jwks() -> dict[str, Any]:
    """Every public key, current and retired, as a JWKS document."""
    return {
        "keys": [
            {**row.public_jwk, "alg": JWS_ALGORITHM}
            for row in SigningKey.objects.order_by("created_at", "id")
        ]
    }


def keyset_from_jwks(document: dict[str, Any]) -> KeySet:
    """Build a verification key set from a published JWKS (no private material)."""
    return KeySet.import_key_set({"keys": [dict(key) for key in document.get("keys", [])]})
