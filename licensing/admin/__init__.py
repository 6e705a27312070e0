"""The portal (Django's admin), one module per entity; importing them registers them
(the modules only: their names are imported from the module that defines them).

`scoping` holds what every creator-scoped admin shares (a creator sees only their
own rows, another's id is a 404); `licensees` the organisation-scoped side.
"""

from licensing.admin import (  # noqa: F401
    clearances,
    collections,
    creators,
    keys,
    licensees,
    offers,
    scoping,
    site,
    usage,
    works,
)
