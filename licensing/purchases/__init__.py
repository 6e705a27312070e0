"""Shim: `licensing.purchases` moved to `licensing.services.purchases`.
This alias keeps the old path (and monkeypatching through it) working until the
parallel branches have merged.
"""

import sys

from licensing.services import purchases as _moved

sys.modules[__name__] = _moved
