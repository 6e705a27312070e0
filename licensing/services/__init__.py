"""Writes to the catalogue, one module per entity. Each service is one transaction.

The API views, the admin portal, the CSV import, the management commands and the
demo loader all write through these functions, so a rule lives in exactly one place:
identifiers are normalized and unique, a work's shares total 10,000, an offer's terms
fit its pricing model, a reserved work has no offers, and a licensed offer version is
never changed (the next version is created instead). A rule broken by the caller's
input raises `LicensingError` with a code and the name of the offending field, before
anything is written.

Every service that changes what the public endpoints show ends with
`public_cache_invalidate()`, which empties their cache once the transaction commits.

Callers import from the entity's module (`from licensing.services.works import
work_create`); this package re-exports nothing, so each name has one import path.
"""
