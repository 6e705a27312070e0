"""Fixtures for the invoice tests: stand-in usage, a finance member of staff, a bad card."""

from __future__ import annotations

import pytest

from licensing.services.creators import finance_user_create
from tests.licensing.licensee_fixtures import declining_org  # noqa: F401
from tests.payouts.royalty_fixtures import FakeUsage


@pytest.fixture
def usage(monkeypatch):
    return FakeUsage(monkeypatch)


@pytest.fixture
def finance():
    user = finance_user_create(username="fin-one")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user
