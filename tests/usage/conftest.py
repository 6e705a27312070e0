"""Fixtures for usage: the licensee side's catalogue, organisations and clients."""

from tests.licensees.conftest import (  # noqa: F401
    Catalogue,
    card_org,
    catalogue,
    client_for,
    declining_org,
    invoice_org,
)
