"""CI must prove that the suite ran on the real services, not on the embedded defaults."""

import os

import pytest
from django.conf import settings
from django.db import connection


@pytest.mark.django_db
def test_ci_runs_on_postgresql_and_redis() -> None:
    if os.environ.get("CI") != "true":
        pytest.skip("only meaningful under CI=true, where .ci/run sets the real services")
    import redis

    assert connection.vendor == "postgresql"
    assert settings.REDIS_URL
    assert redis.Redis.from_url(settings.REDIS_URL).ping()
    assert settings.CELERY_TASK_ALWAYS_EAGER is False
