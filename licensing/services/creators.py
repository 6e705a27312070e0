"""Creators, finance users and the groups that give them their permissions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from ledger.services import owner_accounts_open
from licensing.accounts import CREATOR_OWNER_TYPE
from licensing.errors import LicensingErrorCode
from licensing.models import (
    Creator,
)
from licensing.public_cache import public_cache_invalidate
from licensing.services.validation import (
    UNSET,
    Unset,
    currency_check,
    invalid,
)

CREATOR_GROUP = "Creators"
FINANCE_GROUP = "Finance"
CREATOR_ACCOUNTS = {"payable": "liability"}

_CREATOR_PERMISSIONS = (
    "view_creator",
    "change_creator",
    "view_offerversion",
    *(
        f"{action}_{model}"
        for model in ("work", "rightsshare", "collection", "offer")
        for action in ("view", "add", "change", "delete")
    ),
)
_FINANCE_PERMISSIONS = tuple(
    f"view_{model}"
    for model in (
        "creator",
        "work",
        "rightsshare",
        "collection",
        "offer",
        "offerversion",
        "clearance",
        "clearanceitem",
    )
)


# --- Creators, finance users, groups --------------------------------------------------


def group_ensure(*, name: str, codenames: Sequence[str]) -> Group:
    group, _ = Group.objects.get_or_create(name=name)
    permissions = Permission.objects.filter(
        content_type__app_label="licensing", codename__in=codenames
    )
    if permissions.count() != len(codenames):
        # Permissions are created after migrations; a fresh database may not have them yet.
        from django.apps import apps
        from django.contrib.auth.management import create_permissions

        create_permissions(apps.get_app_config("licensing"), verbosity=0)
    group.permissions.add(*permissions.all())
    return group


def creator_group_ensure() -> Group:
    """The group whose permissions let a creator use the portal (scoped by the admin)."""
    return group_ensure(name=CREATOR_GROUP, codenames=_CREATOR_PERMISSIONS)


def finance_group_ensure() -> Group:
    return group_ensure(name=FINANCE_GROUP, codenames=_FINANCE_PERMISSIONS)


def _username_check(username: str) -> str:
    username = (username or "").strip()
    if not username:
        raise invalid(LicensingErrorCode.PARAMETER_INVALID, "Give a username.", "username")
    if get_user_model().objects.filter(username=username).exists():
        raise invalid(
            LicensingErrorCode.USERNAME_TAKEN, f"User {username!r} already exists.", "username"
        )
    return username


def _country_check(country: str) -> str:
    country = (country or "").strip().upper()
    if country and (len(country) != 2 or not country.isalpha()):
        raise invalid(
            LicensingErrorCode.PARAMETER_INVALID,
            "Give the country as an ISO 3166-1 alpha-2 code, e.g. FR.",
            "country",
        )
    return country


def creator_accounts_open(*, creator: Creator, currency: str | None = None) -> dict[str, Any]:
    """Open (idempotently) the ledger accounts a creator is paid through."""
    return owner_accounts_open(
        owner_type=CREATOR_OWNER_TYPE,
        owner_id=creator.public_id,
        currency=currency or creator.payout_currency,
        accounts=CREATOR_ACCOUNTS,
    )


def creator_create(
    *,
    username: str,
    email: str = "",
    password: str | None = None,
    display_name: str | None = None,
    payout_currency: str = "eur",
    country: str = "",
) -> Creator:
    """Create a creator's portal login (staff, not superuser), profile and ledger accounts."""
    payout_currency = currency_check(payout_currency, param="currency")
    country = _country_check(country)
    with transaction.atomic():
        username = _username_check(username)
        user = get_user_model().objects.create_user(
            username=username, email=email, password=password, is_staff=True
        )
        user.groups.add(creator_group_ensure())
        creator = Creator.objects.create(
            user=user,
            display_name=(display_name or username).strip()[:200],
            payout_currency=payout_currency,
            country=country,
        )
        creator_accounts_open(creator=creator)
    return creator


def creator_update(
    *,
    creator: Creator,
    display_name: str | Unset = UNSET,
    country: str | Unset = UNSET,
    payout_currency: str | Unset = UNSET,
) -> Creator:
    with transaction.atomic():
        creator = Creator.objects.select_for_update().get(pk=creator.pk)
        if not isinstance(display_name, Unset):
            if not display_name.strip():
                raise invalid(
                    LicensingErrorCode.PARAMETER_INVALID, "Give a display name.", "display_name"
                )
            creator.display_name = display_name.strip()[:200]
        if not isinstance(country, Unset):
            creator.country = _country_check(country)
        if not isinstance(payout_currency, Unset):
            creator.payout_currency = currency_check(payout_currency, param="payout_currency")
            creator_accounts_open(creator=creator)
        creator.save()
    public_cache_invalidate()
    return creator


def finance_user_create(*, username: str, password: str | None = None, email: str = "") -> Any:
    """Create a finance staff login (portal access and finance API keys)."""
    with transaction.atomic():
        username = _username_check(username)
        user = get_user_model().objects.create_user(
            username=username, email=email, password=password, is_staff=True
        )
        user.groups.add(finance_group_ensure())
    return user


def user_is_finance(user: Any) -> bool:
    return bool(user.is_superuser or user.groups.filter(name=FINANCE_GROUP).exists())
