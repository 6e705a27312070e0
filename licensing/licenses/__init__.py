"""Shim: `licensing.licenses` split into `licensing.selectors.licenses` (reads) and
`licensing.services.licenses` (writes). Kept until the parallel branches have merged.
"""

from licensing.selectors.licenses import *  # noqa: F403
from licensing.selectors.licenses import CERTIFICATE_ISSUER, WORKS_LISTED  # noqa: F401
from licensing.services.licenses import *  # noqa: F403
from licensing.services.licenses import EXPIRE_BATCH_SIZE_MAX  # noqa: F401
