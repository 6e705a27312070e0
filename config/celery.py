"""The Celery app.

Without a broker (the embedded default) settings turn on eager mode, so every task
runs in the caller's process and a first run needs nothing but Python.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("accord")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
