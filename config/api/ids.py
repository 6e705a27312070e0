"""Opaque public ids (`wrk_4fJ2…`), so the API never exposes row numbers."""

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits
_RANDOM_LENGTH = 20  # about 119 bits: collisions are not a practical concern
# Bytes below this map evenly onto the alphabet (byte % 62); the rest are drawn again.
_BYTE_ACCEPTED_BELOW = 256 - 256 % len(_ALPHABET)
# A few spare bytes, so that one draw almost always suffices (a purchase mints two ids,
# and drawing each character on its own read the system's randomness twenty times).
_BYTES_PER_DRAW = _RANDOM_LENGTH + 4


def public_id(prefix: str) -> str:
    """Mint a new id such as `lic_3Kf9…` for an object of the given kind."""
    characters: list[str] = []
    while len(characters) < _RANDOM_LENGTH:
        characters += [
            _ALPHABET[byte % len(_ALPHABET)]
            for byte in secrets.token_bytes(_BYTES_PER_DRAW)
            if byte < _BYTE_ACCEPTED_BELOW
        ]
    return f"{prefix}_{''.join(characters[:_RANDOM_LENGTH])}"
