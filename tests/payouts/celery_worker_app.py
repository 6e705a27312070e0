"""The Celery app a crash test's worker runs: Accord's own, posting slowly, on its queue.

The worker is a real `celery worker` process on the Redis broker; this module only
makes posting one license per chunk with a pause after each, so the test can kill it
half way, and puts it on the test's own queue. Where the usage app does not yet close
periods (an older licensing), the close is a no-op here, never in Accord itself.
"""

import os
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from config.celery import app  # noqa: E402
from payouts.services import royalty_posting  # noqa: E402

app.conf.task_default_queue = os.environ["ACCORD_TEST_QUEUE"]
royalty_posting.LICENSES_PER_CHUNK = 1
_post_next_chunk = royalty_posting._post_next_chunk


def _slow_chunk(*args, **kwargs):
    posted = _post_next_chunk(*args, **kwargs)
    time.sleep(float(os.environ.get("ACCORD_TEST_CHUNK_PAUSE", "0.3")))
    return posted


royalty_posting._post_next_chunk = _slow_chunk

__all__ = ["app"]
