"""Fixtures of the payouts tests: the licensee side's catalogue and organisations."""

from tests.licensees.conftest import card_org, catalogue, client_for, invoice_org  # noqa: F401
