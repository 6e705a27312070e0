"""Shim: `licensing.organizations` moved to `licensing.services.organizations`.
This alias keeps the old path (and monkeypatching through it) working until the
parallel branches have merged.
"""

import sys

from licensing.services import organizations as _moved

sys.modules[__name__] = _moved
