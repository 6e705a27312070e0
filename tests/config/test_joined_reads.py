"""A joined read builds the same instances as the ORM, converters and all, on either database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext

from config.joined_reads import JoinedRead, Table
from licensing.models import ApiKey, Creator, LicenseeOrganization
from licensing.services.api_keys import api_key_create
from licensing.services.creators import creator_create
from payouts.models import StripeEvent

pytestmark = pytest.mark.django_db


def _values(instance: Model) -> dict[str, Any]:
    return {
        field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields
    }


def _key_with_creator_and_organization() -> JoinedRead:
    key = Table(ApiKey, "k")
    creator = Table(Creator, "c", joined_to=("k", "creator"))
    user = Table(get_user_model(), "u", joined_to=("c", "user"))
    organization = Table(LicenseeOrganization, "o", joined_to=("k", "organization"))

    def sql(columns: str) -> str:
        return (
            f"SELECT {columns} FROM {key.name}"
            f" LEFT JOIN {creator.name} ON {creator.column('id')} = {key.column('creator_id')}"
            f" LEFT JOIN {user.name} ON {user.column('id')} = {creator.column('user_id')}"
            f" LEFT JOIN {organization.name}"
            f" ON {organization.column('id')} = {key.column('organization_id')}"
            f" WHERE {key.column('public_id')} = %s"
        )

    return JoinedRead([key, creator, user, organization], sql)


def test_every_instance_equals_the_orms_and_a_missed_join_is_none() -> None:
    creator = creator_create(username="joined-reader", password=None)
    api_key, _ = api_key_create(kind=ApiKey.Kind.CREATOR, creator=creator)
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at="2026-11-25T10:00:00Z")
    read = _key_with_creator_and_organization()

    ((key, joined_creator, user, organization),) = read.rows([api_key.public_id])

    expected = ApiKey.objects.select_related("creator__user").get(pk=api_key.pk)
    assert _values(key) == _values(expected)
    assert key.last_used_at is not None
    assert key.last_used_at.tzinfo is not None  # SQLite's text became an aware datetime
    assert _values(joined_creator) == _values(expected.creator)
    assert _values(user) == _values(expected.creator.user)
    assert organization is None
    assert key._state.adding is False
    assert key._state.db == "default"


def test_each_joined_instance_is_set_on_its_foreign_key_and_a_miss_as_none(
    django_assert_num_queries,
) -> None:
    creator = creator_create(username="joined-linker", password=None)
    api_key, _ = api_key_create(kind=ApiKey.Kind.CREATOR, creator=creator)

    ((key, joined_creator, user, _),) = _key_with_creator_and_organization().rows(
        [api_key.public_id]
    )

    with django_assert_num_queries(0):  # set as select_related sets them: nothing to read
        assert key.creator is joined_creator
        assert key.creator.user is user
        assert key.organization is None
    assert user.username == "joined-linker"


def test_json_and_dates_are_read_through_their_converters() -> None:
    event = StripeEvent.objects.create(
        stripe_id="evt_joined",
        type="payment_intent.succeeded",
        created=datetime(2026, 11, 25, 10, 0, tzinfo=UTC),
        payload={"data": {"object": {"id": "pi_1", "amount": 1250}}, "list": [1, 2]},
    )
    events = Table(StripeEvent, "e")
    read = JoinedRead(
        [events],
        lambda columns: f"SELECT {columns} FROM {events.name} WHERE {events.column('id')} = %s",
    )

    ((found,),) = read.rows([event.pk])

    assert found.payload == {"data": {"object": {"id": "pi_1", "amount": 1250}}, "list": [1, 2]}
    assert found.created == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    assert _values(found) == _values(StripeEvent.objects.get(pk=event.pk))


def test_the_sql_is_written_once_and_each_read_is_one_statement() -> None:
    read = _key_with_creator_and_organization()
    assert read.sql() is read.sql()
    with CaptureQueriesContext(connection) as queries:
        assert read.rows(["ak_none"]) == []
    assert len(queries) == 1
