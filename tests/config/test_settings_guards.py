"""Settings that must refuse to start rather than run unsafely (issue 13).

Each case loads `config.settings` in a fresh interpreter with its own environment,
as a deployment would, and reads the outcome from its exit status.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

REPOSITORY = Path(__file__).resolve().parents[2]
REAL_LOOKING_KEY = "sk_test_51RealLookingKeyForTheGuardTest"


def _load_settings(**environment: str) -> subprocess.CompletedProcess[str]:
    base = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("STRIPE_") and name != "DJANGO_SETTINGS_MODULE"
    }
    return subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; settings.STRIPE_WEBHOOK_SECRET"],
        cwd=REPOSITORY,
        env={
            **base,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            # What a deployment with a real Stripe key must set anyway (issue 13, finding 2).
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ACCORD_SIGNING_KEY_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            **environment,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    "webhook_secret",
    [None, "", "whsec_accord_sandbox"],
    ids=["unset", "empty", "the-public-sandbox-secret"],
)
def test_a_real_stripe_key_without_its_own_webhook_secret_refuses_to_start(
    webhook_secret: str | None,
) -> None:
    environment = {"STRIPE_SECRET_KEY": REAL_LOOKING_KEY}
    if webhook_secret is not None:
        environment["STRIPE_WEBHOOK_SECRET"] = webhook_secret
    loaded = _load_settings(**environment)
    assert loaded.returncode != 0
    assert "ImproperlyConfigured" in loaded.stderr
    assert "STRIPE_WEBHOOK_SECRET" in loaded.stderr


def test_a_real_stripe_key_with_its_webhook_secret_starts() -> None:
    loaded = _load_settings(
        STRIPE_SECRET_KEY=REAL_LOOKING_KEY, STRIPE_WEBHOOK_SECRET="whsec_from_the_dashboard"
    )
    assert loaded.returncode == 0, loaded.stderr


def test_the_sandbox_default_starts_with_nothing_set() -> None:
    assert _load_settings().returncode == 0
    assert _load_settings(STRIPE_SECRET_KEY="sk_test_accord_sandbox").returncode == 0
