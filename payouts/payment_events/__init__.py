"""Shim: `payouts.payment_events` moved to `payouts.stripe.handlers`.

This alias keeps the old path working until the parallel branches have merged.
"""

import sys

from payouts.stripe import handlers as _moved

sys.modules[__name__] = _moved
