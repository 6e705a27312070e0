"""Shim: `licensing.payments` moved to `licensing.services.card_payments`.
This alias keeps the old path (and monkeypatching through it) working until the
parallel branches have merged.
"""

import sys

from licensing.services import card_payments as _moved

sys.modules[__name__] = _moved
