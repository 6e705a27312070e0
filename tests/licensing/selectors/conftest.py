"""The licensee side's fixtures (tests/licensing/licensee_fixtures.py) for the tests here."""

from tests.licensing.licensee_fixtures import catalogue  # noqa: F401
