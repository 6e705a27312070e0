"""Resolving an API key into a `Principal`: every API request starts here.

A key is `ak_live_` followed by 40 random base-62 characters (about 238 bits), so a
fast hash is the right one: nobody can brute-force that space, and a slow hash would
only slow every request down. The digest column is unique and indexed, so resolving
a key is one indexed lookup. `config.api.authentication` calls `api_key_resolve`
(named by `ACCORD_API_KEY_RESOLVER`) with the raw key from the `Authorization` header.

A key stops working when it is revoked, when the person it acts for is deactivated
(`is_active` off), and, for an organisation key issued to a member, when that
membership is removed: each answers `401 invalid_api_key`.

`last_used_at` is written at most once per `API_KEY_LAST_USED_RESOLUTION_SECONDS`
per key, with a conditional UPDATE, so a busy key does not turn every request into a
write on one hot row.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from config.joined_reads import JoinedRead, Table
from licensing.models import ApiKey, Creator, LicenseeOrganization, OrganizationMembership

KEY_PREFIX = "ak_live_"
VISIBLE_PREFIX_LENGTH = len(KEY_PREFIX) + 4
KEY_LENGTH_MAX = 200


def last_used_resolution() -> timedelta:
    seconds = getattr(settings, "API_KEY_LAST_USED_RESOLUTION_SECONDS", 60)
    return timedelta(seconds=seconds)


def api_key_digest(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


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


@cache
def _key_with_owner() -> JoinedRead:
    """An unrevoked key by its digest, with whom it acts for, in one indexed join.

    Every API request runs it; the ORM's `select_related` of the same tables spent
    more CPU compiling the SQL than PostgreSQL spent running it. The membership row
    (of an organisation key issued to a member) says whether the member still is one.
    """
    key = Table(ApiKey, "k")
    organization = Table(LicenseeOrganization, "o", joined_to=("k", "organization"))
    creator = Table(Creator, "c", joined_to=("k", "creator"))
    creator_user = Table(get_user_model(), "cu", joined_to=("c", "user"))
    user = Table(get_user_model(), "u", joined_to=("k", "user"))
    membership = Table(OrganizationMembership, "m")

    def sql(columns: str) -> str:
        return (
            f"SELECT {columns} FROM {key.name}"
            f" LEFT JOIN {organization.name}"
            f" ON {organization.column('id')} = {key.column('organization_id')}"
            f" LEFT JOIN {creator.name} ON {creator.column('id')} = {key.column('creator_id')}"
            f" LEFT JOIN {creator_user.name}"
            f" ON {creator_user.column('id')} = {creator.column('user_id')}"
            f" LEFT JOIN {user.name} ON {user.column('id')} = {key.column('user_id')}"
            f" LEFT JOIN {membership.name}"
            f" ON {membership.column('organization_id')} = {key.column('organization_id')}"
            f" AND {membership.column('user_id')} = {key.column('user_id')}"
            f" WHERE {key.column('key_hash')} = %s AND {key.column('revoked_at')} IS NULL"
        )

    return JoinedRead([key, organization, creator, creator_user, user, membership], sql)


def _acts_for_someone_gone(api_key: ApiKey, person: Any, membership: Any) -> bool:
    """A key whose person was deactivated, or left the organisation it was issued in."""
    if person is not None and not person.is_active:
        return True
    is_members_key = api_key.kind == ApiKey.Kind.ORGANIZATION and api_key.user_id is not None
    return is_members_key and membership is None


def api_key_resolve(raw_key: str) -> tuple[Principal, ApiKey] | None:
    """Return `(principal, api_key)` for a valid, unrevoked key; None otherwise."""
    if not raw_key.startswith(KEY_PREFIX) or len(raw_key) > KEY_LENGTH_MAX:
        return None
    found = _key_with_owner().rows([api_key_digest(raw_key)])
    if not found:
        return None
    ((api_key, organization, creator, creator_user, user, membership),) = found
    person = user or creator_user
    if _acts_for_someone_gone(api_key, person, membership):
        return None
    _touch_last_used(api_key)
    principal = Principal(
        kind=api_key.kind,
        api_key=api_key,
        user=person,
        creator=creator,
        organization=organization,
    )
    return principal, api_key
