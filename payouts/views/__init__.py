"""Shim: `payouts.views` moved to `payouts.stripe.views`.

This alias keeps the old path working until the parallel branches have merged.
"""

import sys

from payouts.stripe import views as _moved

sys.modules[__name__] = _moved
