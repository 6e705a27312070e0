"""Shim: `payouts.card_payments` moved to `payouts.stripe.card_payments`.

This alias keeps the old path working until the parallel branches have merged.
"""

import sys

from payouts.stripe import card_payments as _moved

sys.modules[__name__] = _moved
