"""Opaque public ids (`wrk_4fJ2…`), so the API never exposes row numbers."""

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits
_RANDOM_LENGTH = 20  # about 119 bits: collisions are not a practical concern


def public_id(prefix: str) -> str:
    """Mint a new id such as `lic_3Kf9…` for an object of the given kind."""
    return f"{prefix}_{''.join(secrets.choice(_ALPHABET) for _ in range(_RANDOM_LENGTH))}"
