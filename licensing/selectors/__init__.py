"""Reads, one module per entity: what the API, the admin and the public endpoints show.

Callers import from the entity's module (`from licensing.selectors.works import
work_get`); this package re-exports nothing, so each name has one import path.
"""
