"""The licensee side's fixtures (tests/licensing/licensee_fixtures.py) for the tests here."""

from tests.licensing.licensee_fixtures import (  # noqa: F401
    card_org,
    catalogue,
    client_for,
    declining_org,
    invoice_org,
)
