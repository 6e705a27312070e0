"""The portal (Django's admin), one module per entity; importing them registers them.

`scoping` holds what every creator-scoped admin shares (a creator sees only their
own rows, another's id is a 404); `licensees` the organisation-scoped side.
"""

from licensing.admin.clearances import *  # noqa: F403
from licensing.admin.collections import *  # noqa: F403
from licensing.admin.creators import *  # noqa: F403
from licensing.admin.keys import *  # noqa: F403
from licensing.admin.licensees import *  # noqa: F403
from licensing.admin.offers import *  # noqa: F403
from licensing.admin.scoping import *  # noqa: F403
from licensing.admin.site import *  # noqa: F403
from licensing.admin.usage import *  # noqa: F403
from licensing.admin.works import *  # noqa: F403
