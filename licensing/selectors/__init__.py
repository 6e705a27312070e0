"""Reads, one module per entity: what the API, the admin and the public endpoints show.

Callers import from the entity's module (`licensing.selectors.works`); the names are
also re-exported here for the code written before the split (`from licensing import
selectors; selectors.work_get(...)`).
"""

from licensing.selectors.collections import *  # noqa: F403
from licensing.selectors.creators import *  # noqa: F403
from licensing.selectors.licenses import *  # noqa: F403
from licensing.selectors.offers import *  # noqa: F403
from licensing.selectors.works import *  # noqa: F403
