"""The embedded default (SQLite file, eager Celery) never answers a webhook or a purchase 500.

`make demo` logged `POST /stripe/webhook 500` with `database is locked` right after card
purchases: the sandbox delivers each purchase's events while the next purchases write.
This runs the same stack as the demo, in processes of its own: `manage.py runserver`
(threaded) on an SQLite file, no broker, the sandbox delivering every event to it, and
card purchases sent concurrently.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures.stripe_sandbox import SANDBOX_API_KEY, SANDBOX_WEBHOOK_SECRET, SandboxControl

REPOSITORY = Path(__file__).resolve().parents[3]
PURCHASES = 12
CONCURRENT_CLIENTS = 6

_SETUP = """
import json
from licensing.models import ApiKey
from licensing.services.api_keys import api_key_create
from licensing.services.creators import creator_create
from licensing.services.offers import OfferTerms, offer_create
from licensing.services.organizations import organization_create
from licensing.services.works import work_create

creator = creator_create(username="embedded", password=None)
work = work_create(creator=creator, title="Embedded", kind="text")
offer = offer_create(
    creator=creator, work=work, use="ai-train", status="active",
    terms=OfferTerms(pricing="flat", currency="eur", amount=1_000, term_days=30),
)
organization = organization_create(
    slug="embedded-lab", billing="card", payment_method="pm_card_visa"
)
_, raw_key = api_key_create(kind=ApiKey.Kind.ORGANIZATION, organization=organization)
print(json.dumps({"offer": offer.public_id, "key": raw_key}))
"""


@dataclass(frozen=True)
class Embedded:
    url: str
    offer: str
    key: str


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _environment(tmp_path: Path, sandbox_url: str) -> dict[str, str]:
    unset = {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"}
    environment = {name: value for name, value in os.environ.items() if name not in unset}
    return {
        **environment,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "STRIPE_SECRET_KEY": SANDBOX_API_KEY,
        "STRIPE_API_BASE": sandbox_url,
        "STRIPE_WEBHOOK_SECRET": SANDBOX_WEBHOOK_SECRET,
        "ACCORD_LOCAL_SECRETS": "1",
        "ACCORD_LOCAL_SECRETS_FILE": str(tmp_path / "secrets.json"),
        "LOG_LEVEL": "WARNING",
    }


def _manage(environment: dict[str, str], *arguments: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _wait_until_up(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert server.poll() is None, "the server exited"
        assert time.monotonic() < deadline, "the server did not come up"
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)


@pytest.fixture
def embedded(tmp_path: Path, stripe_sandbox: str) -> Iterator[Embedded]:
    environment = _environment(tmp_path, stripe_sandbox)
    _manage(environment, "migrate", "--noinput")
    created = json.loads(_manage(environment, "shell", "-c", _SETUP).strip().splitlines()[-1])
    url = f"http://127.0.0.1:{_free_port()}"
    with open(tmp_path / "server.log", "w") as log:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", url.removeprefix("http://")],
            cwd=REPOSITORY,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_up(url, server)
            yield Embedded(url, created["offer"], created["key"])
        finally:
            server.terminate()
            server.wait(timeout=30)


def _purchase(embedded: Embedded, number: int) -> int:
    request = urllib.request.Request(
        f"{embedded.url}/api/v1/licenses",
        # The same offer again and again: each is a new license, on purpose.
        data=json.dumps({"offer": embedded.offer, "allow_duplicate": True}).encode(),
        headers={
            "Authorization": f"Bearer {embedded.key}",
            "Content-Type": "application/json",
            "Idempotency-Key": f"embedded-{number}",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as refused:
        return refused.code


def test_concurrent_card_purchases_and_their_webhooks_never_answer_500(
    embedded: Embedded, stripe_sandbox_control: SandboxControl
) -> None:
    stripe_sandbox_control.add_webhook_endpoint(f"{embedded.url}/stripe/webhook")

    with ThreadPoolExecutor(CONCURRENT_CLIENTS) as clients:
        statuses = list(clients.map(lambda number: _purchase(embedded, number), range(PURCHASES)))

    assert statuses == [201] * PURCHASES
    # Each purchase makes a PaymentIntent and a charge: at least two events each.
    deliveries = stripe_sandbox_control.wait_for_deliveries(2 * PURCHASES, timeout_seconds=60)
    assert {delivery["status"] for delivery in deliveries} == {200}, deliveries
