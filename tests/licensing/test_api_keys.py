"""API keys: shown once, stored hashed, revocable, resolved into who is calling."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.test import APIClient

from licensing.errors import LicensingError, LicensingErrorCode
from licensing.models import ApiKey, OrganizationMembership
from licensing.selectors.api_keys import KEY_PREFIX, api_key_resolve
from licensing.services.api_keys import api_key_create, api_key_revoke
from licensing.services.creators import finance_user_create
from licensing.services.organizations import organization_create, organization_member_add

pytestmark = pytest.mark.django_db


def test_only_the_hash_and_a_short_prefix_are_stored(alice) -> None:
    api_key, raw_key = api_key_create(kind=ApiKey.Kind.CREATOR, creator=alice)

    assert raw_key.startswith(KEY_PREFIX)
    assert len(raw_key) >= 48
    stored = ApiKey.objects.get(pk=api_key.pk)
    assert stored.key_hash == hashlib.sha256(raw_key.encode()).hexdigest()
    assert raw_key.startswith(stored.prefix)
    assert len(stored.prefix) < 16
    assert raw_key not in {str(value) for value in ApiKey.objects.values_list().get()}


def test_a_key_resolves_to_its_principal(alice) -> None:
    _, raw_key = api_key_create(kind=ApiKey.Kind.CREATOR, creator=alice)

    principal, api_key = api_key_resolve(raw_key)

    assert principal.is_authenticated
    assert principal.is_creator
    assert (principal.kind, principal.creator, principal.user) == ("creator", alice, alice.user)
    assert principal.organization is None
    assert api_key.creator_id == alice.pk
    assert api_key_resolve(raw_key + "x") is None
    assert api_key_resolve("sk_live_something") is None


def test_a_revoked_key_is_refused_with_401(alice) -> None:
    api_key, raw_key = api_key_create(kind=ApiKey.Kind.CREATOR, creator=alice)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    assert client.get("/api/v1/me/works").status_code == 200

    api_key_revoke(api_key=api_key)
    response = client.get("/api/v1/me/works")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


@pytest.mark.parametrize("header", ["Bearer ak_live_unknown", "Bearer", "Basic abc", "Bearer a b"])
def test_bad_credentials_are_401(db, header: str) -> None:
    response = APIClient().get("/api/v1/works", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"


def test_no_key_is_401(db) -> None:
    response = APIClient().get("/api/v1/me/works")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_required"


def test_last_used_is_recorded_but_not_on_every_request(alice, settings) -> None:
    settings.API_KEY_LAST_USED_RESOLUTION_SECONDS = 60
    api_key, raw_key = api_key_create(kind=ApiKey.Kind.CREATOR, creator=alice)
    assert api_key.last_used_at is None

    api_key_resolve(raw_key)
    first = ApiKey.objects.get(pk=api_key.pk).last_used_at
    api_key_resolve(raw_key)
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at == first

    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=timezone.now() - timedelta(minutes=5))
    api_key_resolve(raw_key)
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at > first - timedelta(seconds=1)
    assert first is not None


def test_a_finance_key_needs_a_finance_user(alice) -> None:
    finance = finance_user_create(username="fiona")
    _, raw_key = api_key_create(kind=ApiKey.Kind.FINANCE, user=finance)
    principal, _ = api_key_resolve(raw_key)
    assert principal.is_finance
    assert principal.user == finance

    stranger = get_user_model().objects.create_user("stranger")
    with pytest.raises(LicensingError) as raised:
        api_key_create(kind=ApiKey.Kind.FINANCE, user=stranger)
    assert raised.value.code == LicensingErrorCode.NOT_A_FINANCE_USER


def test_a_key_of_the_wrong_kind_is_403(alice) -> None:
    finance = finance_user_create(username="fiona")
    _, raw_key = api_key_create(kind=ApiKey.Kind.FINANCE, user=finance)

    response = APIClient().get("/api/v1/me/works", HTTP_AUTHORIZATION=f"Bearer {raw_key}")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "creator_key_required"


def _status_with(raw_key: str, path: str) -> tuple[int, str | None]:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    response = client.get(path)
    code = response.json()["error"]["code"] if response.status_code >= 400 else None
    return response.status_code, code


def test_a_key_of_a_deactivated_user_is_401_invalid_api_key(alice) -> None:
    """Issue 13, finding 5: keys kept working after their user was deactivated."""
    _, creator_key = api_key_create(kind=ApiKey.Kind.CREATOR, creator=alice)
    finance_user = finance_user_create(username="finance-gone")
    _, finance_key = api_key_create(kind=ApiKey.Kind.FINANCE, user=finance_user)
    assert _status_with(creator_key, "/api/v1/me/works") == (200, None)
    assert api_key_resolve(finance_key) is not None

    get_user_model().objects.filter(pk__in=[alice.user.pk, finance_user.pk]).update(is_active=False)

    assert _status_with(creator_key, "/api/v1/me/works") == (401, "invalid_api_key")
    assert api_key_resolve(creator_key) is None
    assert api_key_resolve(finance_key) is None


def test_a_members_organisation_key_is_401_once_the_membership_is_removed(db) -> None:
    organization = organization_create(slug="members-lab")
    member = get_user_model().objects.create_user("lab-member", password=None)
    organization_member_add(organization=organization, username="lab-member")
    _, members_key = api_key_create(
        kind=ApiKey.Kind.ORGANIZATION, organization=organization, user=member
    )
    _, organisations_key = api_key_create(kind=ApiKey.Kind.ORGANIZATION, organization=organization)
    assert _status_with(members_key, "/api/v1/licenses") == (200, None)

    OrganizationMembership.objects.filter(user=member).delete()

    assert _status_with(members_key, "/api/v1/licenses") == (401, "invalid_api_key")
    assert _status_with(organisations_key, "/api/v1/licenses") == (200, None)  # not a member's


def test_a_members_organisation_key_is_401_once_the_member_is_deactivated(db) -> None:
    organization = organization_create(slug="members-lab-2")
    member = get_user_model().objects.create_user("lab-member-2", password=None)
    organization_member_add(organization=organization, username="lab-member-2")
    _, members_key = api_key_create(
        kind=ApiKey.Kind.ORGANIZATION, organization=organization, user=member
    )

    member.is_active = False
    member.save(update_fields=["is_active"])

    assert _status_with(members_key, "/api/v1/licenses") == (401, "invalid_api_key")


def test_an_organisation_key_is_issued_only_to_a_member(db) -> None:
    organization = organization_create(slug="members-lab-3")
    outsider = get_user_model().objects.create_user("outsider", password=None)

    with pytest.raises(LicensingError) as refused:
        api_key_create(kind=ApiKey.Kind.ORGANIZATION, organization=organization, user=outsider)

    assert refused.value.code == LicensingErrorCode.USER_NOT_FOUND
    assert not ApiKey.objects.exists()
