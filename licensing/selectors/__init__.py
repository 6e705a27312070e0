"""Reads, one module per entity: what the API, the admin and the public endpoints show.

Callers import from the entity's module (`licensing.selectors.usage`); the catalogue's
names are also re-exported here for the code written before the split
(`from licensing import selectors; selectors.work_get(...)`).
"""

from licensing.selectors.catalogue import *  # noqa: F403
