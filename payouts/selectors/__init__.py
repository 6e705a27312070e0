"""Reads of the payouts app, one module per entity."""
