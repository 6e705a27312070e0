"""Shim: `licensing.admin_licensees` moved to `licensing.admin.licensees`.

This alias keeps the old path working until the parallel branches have merged.
"""

import sys

from licensing.admin import licensees as _moved

sys.modules[__name__] = _moved
