"""Shim: `licensing.api_keys` moved to `licensing.selectors.api_keys` (resolving a key)
and `licensing.services.api_keys` (minting one). Kept until the parallel branches merge.
"""

from licensing.selectors.api_keys import *  # noqa: F403
from licensing.selectors.api_keys import KEY_LENGTH_MAX, KEY_PREFIX, VISIBLE_PREFIX_LENGTH  # noqa: F401
from licensing.services.api_keys import api_key_generate  # noqa: F401
