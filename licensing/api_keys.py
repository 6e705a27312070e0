"""API keys: minted once, stored as a SHA-256 digest, resolved into a `Principal`.

A key is `ak_live_` followed by 40 random base-62 characters (about 238 bits), so a
fast hash is the right one: nobody can brute-force that space, and a slow hash would
only slow every request down. The digest column is unique and indexed, so resolving
a key is one indexed lookup. `config.api.authentication` calls `api_key_resolve`
(named by `ACCORD_API_KEY_RESOLVER`) with the raw key from the `Authorization` header.

`last_used_at` is written at most once per `API_KEY_LAST_USED_RESOLUTION_SECONDS`
per key, with a conditional UPDATE, so a busy key does not turn every request into a
write on one hot row.
"""

from __future__ import annotations

import hashlib
import secrets
import string
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from licensing.models import ApiKey, Creator

KEY_PREFIX = "ak_live_"
_RANDOM_ALPHABET = string.ascii_letters + string.digits
_RANDOM_LENGTH = 40
VISIBLE_PREFIX_LENGTH = len(KEY_PREFIX) + 4
KEY_LENGTH_MAX = 200


def last_used_resolution() -> timedelta:
    seconds = getattr(settings, "API_KEY_LAST_USED_RESOLUTION_SECONDS", 60)
    return timedelta(seconds=seconds)


def api_key_digest(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_generate() -> str:
    """Mint a new raw key (not stored anywhere; the caller shows it once)."""
    return KEY_PREFIX + "".join(secrets.choice(_RANDOM_ALPHABET) for _ in range(_RANDOM_LENGTH))


@dataclass(frozen=True)
class Principal:
    """Who an API request acts for: a creator, a licensee organisation or finance staff.

    DRF puts it in `request.user`; `is_authenticated` is what its permission classes
    read. Exactly one of `creator`, `organization` and (for finance) `user` says who.
    """

    kind: str
    api_key: ApiKey = field(repr=False)
    user: Any = None
    creator: Creator | None = None
    organization: Any = None

    is_authenticated = True
    is_anonymous = False

    @property
    def is_creator(self) -> bool:
        return self.kind == ApiKey.Kind.CREATOR

    @property
    def is_finance(self) -> bool:
        return self.kind == ApiKey.Kind.FINANCE

    @property
    def is_organization(self) -> bool:
        return self.kind == ApiKey.Kind.ORGANIZATION

    def __str__(self) -> str:
        return f"{self.kind} via {self.api_key.prefix}…"


def _touch_last_used(api_key: ApiKey) -> None:
    now = timezone.now()
    stale_before = now - last_used_resolution()
    if api_key.last_used_at is not None and api_key.last_used_at > stale_before:
        return
    # The condition makes concurrent requests write once between them, not once each.
    ApiKey.objects.filter(pk=api_key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale_before)
    ).update(last_used_at=now)
    api_key.last_used_at = now


def api_key_resolve(raw_key: str) -> tuple[Principal, ApiKey] | None:
    """Return `(principal, api_key)` for a valid, unrevoked key; None otherwise."""
    if not raw_key.startswith(KEY_PREFIX) or len(raw_key) > KEY_LENGTH_MAX:
        return None
    try:
        # get(), not first(): the hash is unique, and first()'s ORDER BY makes PostgreSQL
        # plan this join anew on every request instead of reusing a prepared plan.
        api_key = ApiKey.objects.select_related("creator__user", "user", "organization").get(
            key_hash=api_key_digest(raw_key), revoked_at__isnull=True
        )
    except ApiKey.DoesNotExist:
        return None
    _touch_last_used(api_key)
    user = api_key.user if api_key.user_id else getattr(api_key.creator, "user", None)
    principal = Principal(
        kind=api_key.kind,
        api_key=api_key,
        user=user,
        creator=api_key.creator,
        organization=api_key.organization,
    )
    return principal, api_key
