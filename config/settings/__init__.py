"""Settings, all read from the environment (django-environ), one module per concern.

Nothing here needs to be set for a first run: the database defaults to an SQLite
file, Celery runs eagerly and the cache is in process memory. Production and CI set
`DATABASE_URL` (PostgreSQL) and `REDIS_URL` (broker, cache, rate limits).

`core` (Django, the database, Celery, the API, Stripe's address), `hardening` (issue 13:
login throttling, TLS, the content security policy), `invoices` (issue 16),
`payout_dispatch` (issue 17).
Each later module reads the earlier ones' values; Django reads this package.
"""

from config.settings.core import *  # noqa: F403
from config.settings.hardening import *  # noqa: F403
from config.settings.invoices import *  # noqa: F403
from config.settings.payout_dispatch import *  # noqa: F403
