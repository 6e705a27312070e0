"""The Celery app the simulation's worker runs: Accord's own, with the run's test knobs.

- `ACCORD_TEST_QUEUE`: the simulation's own queue, so no other test's worker takes
  its jobs.
- `ACCORD_SIM_STRIPE_TIMEOUT_SECONDS`: the SDK's read timeout, short so that a `slow`
  sandbox fault outlasts it and the call's outcome is unknown, as a real timeout is.
- `ACCORD_SIM_EVENTS_PENDING_AFTER_SECONDS`: how old a stored Stripe event must be
  before beat's job processes it as lost (2 min in production): an event whose task
  died with a killed worker is then recovered in seconds, not after two minutes of
  waiting for rest (which made a seed's time depend on where a kill landed).
- `ACCORD_SIM_PLANT`: a planted bug (tests/simulation/plants.py), applied here because
  payouts are sent and runs are rated in this process.
"""

import os
from datetime import timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from config.celery import app  # noqa: E402
from payouts.stripe import gateway  # noqa: E402
from payouts.stripe import tasks as stripe_tasks  # noqa: E402
from tests.simulation.plants import PLANT_ENV, PLANTS  # noqa: E402

app.conf.task_default_queue = os.environ["ACCORD_TEST_QUEUE"]
gateway.REQUEST_TIMEOUT_SECONDS = float(
    os.environ.get("ACCORD_SIM_STRIPE_TIMEOUT_SECONDS", gateway.REQUEST_TIMEOUT_SECONDS)
)
if os.environ.get("ACCORD_SIM_EVENTS_PENDING_AFTER_SECONDS"):
    stripe_tasks.PENDING_AFTER = timedelta(
        seconds=float(os.environ["ACCORD_SIM_EVENTS_PENDING_AFTER_SECONDS"])
    )


class _Patch:
    """monkeypatch's setattr, for a process that lives only as long as the plant."""

    @staticmethod
    def setattr(target: object, name: str, value: object) -> None:
        setattr(target, name, value)


if os.environ.get(PLANT_ENV):
    PLANTS[os.environ[PLANT_ENV]](_Patch())

__all__ = ["app"]
