"""Shim: `payouts.webhooks` moved to `payouts.stripe.webhooks`.

This alias keeps the old path working until the parallel branches have merged.
"""

import sys

from payouts.stripe import webhooks as _moved

sys.modules[__name__] = _moved
