"""Fixtures for usage: the licensee side's catalogue, organisations and clients."""

from tests.licensing.licensee_fixtures import (  # noqa: F401
    Catalogue,
    card_org,
    catalogue,
    client_for,
    declining_org,
    invoice_org,
)
