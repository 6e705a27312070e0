"""Issuing and revoking API keys."""

from __future__ import annotations

import secrets
import string
from typing import Any

from django.db import transaction
from django.utils import timezone

from licensing.errors import LicensingErrorCode
from licensing.models import (
    ApiKey,
    Creator,
)
from licensing.selectors.api_keys import KEY_PREFIX, VISIBLE_PREFIX_LENGTH, api_key_digest
from licensing.services.creators import user_is_finance
from licensing.services.validation import (
    invalid,
)

_RANDOM_ALPHABET = string.ascii_letters + string.digits
_RANDOM_LENGTH = 40  # about 238 bits: a fast digest is the right one


def api_key_generate() -> str:
    """Mint a new raw key (not stored anywhere; the caller shows it once)."""
    return KEY_PREFIX + "".join(secrets.choice(_RANDOM_ALPHABET) for _ in range(_RANDOM_LENGTH))


def api_key_create(
    *,
    kind: str,
    creator: Creator | None = None,
    user: Any = None,
    organization: Any = None,
    name: str = "",
) -> tuple[ApiKey, str]:
    """Mint a key; return the row and the raw key, which is never stored or shown again."""
    if kind == ApiKey.Kind.CREATOR:
        if creator is None:
            raise invalid(LicensingErrorCode.NOT_A_CREATOR, "A creator key needs a creator.", None)
        user = creator.user
    elif kind == ApiKey.Kind.FINANCE:
        if user is None or not user_is_finance(user):
            raise invalid(
                LicensingErrorCode.NOT_A_FINANCE_USER,
                f"{getattr(user, 'username', user)!r} is not a finance user.",
                None,
            )
    elif kind == ApiKey.Kind.ORGANIZATION:
        if organization is None:
            raise invalid(
                LicensingErrorCode.ORGANIZATION_NOT_FOUND,
                "A licensee organisation's key needs its organisation.",
                None,
            )
        if user is not None and not organization.memberships.filter(user=user).exists():
            raise invalid(
                LicensingErrorCode.USER_NOT_FOUND,
                f"{getattr(user, 'username', user)!r} is not a member of {organization.slug}.",
                "user",
            )
    else:
        raise invalid(LicensingErrorCode.PARAMETER_INVALID, f"Unknown key kind {kind!r}.", "kind")
    raw_key = api_key_generate()
    with transaction.atomic():
        api_key = ApiKey.objects.create(
            kind=kind,
            creator=creator,
            user=user,
            organization=organization,
            name=name[:100],
            prefix=raw_key[:VISIBLE_PREFIX_LENGTH],
            key_hash=api_key_digest(raw_key),
        )
    return api_key, raw_key


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """Revoke a key for good (idempotent: the first revocation time is kept)."""
    with transaction.atomic():
        ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        api_key.refresh_from_db()
    return api_key
