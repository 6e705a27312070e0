"""Behind TLS (`ACCORD_HTTPS=1`): HSTS, secure cookies, CSP, a clean `check --deploy`.

Issue 13, finding 16. Settings are read from the environment at start-up, so each
case starts a fresh interpreter with the deployment's environment, as gunicorn would.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

REPOSITORY = Path(__file__).resolve().parents[2]
HOST = "accord.example"

# Asks the deployed settings for a few pages through Django's test client.
PROBE = """
import json, django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="accord.example")
answers = {}
for name, path, secure in [
    ("login", "/admin/login/", True),
    ("plain", "/admin/login/", False),
    ("health", "/healthz", False),
    ("api", "/api/v1/works", True),
]:
    response = client.get(path, secure=secure)
    answers[name] = {
        "status": response.status_code,
        "headers": dict(response.headers),
        "cookies": {key: dict(morsel) for key, morsel in response.cookies.items()},
    }
print(json.dumps(answers))
"""


@pytest.fixture
def deploy_environment(tmp_path: Path) -> dict[str, str]:
    base = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("STRIPE_", "SECURE_", "DJANGO_"))
        and name not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "REDIS_URL"}
    }
    return {
        **base,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        "ACCORD_HTTPS": "1",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        # A deployment brings its own signing-key encryption key (docs/licensees.md).
        "ACCORD_SIGNING_KEY_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ACCORD_LOCAL_SECRETS": "0",
        "ALLOWED_HOSTS": HOST,
    }


def _run(arguments: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_with_the_tls_settings(deploy_environment) -> None:
    checked = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], deploy_environment
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "System check identified no issues" in checked.stdout


def test_pages_carry_hsts_secure_cookies_and_csp_behind_tls(deploy_environment) -> None:
    probed = _run(["-c", PROBE], deploy_environment)
    assert probed.returncode == 0, probed.stderr
    answers = json.loads(probed.stdout.strip().splitlines()[-1])

    login = answers["login"]
    assert login["status"] == 200
    hsts = login["headers"]["Strict-Transport-Security"]
    assert hsts == "max-age=31536000; includeSubDomains; preload"
    assert login["cookies"]["csrftoken"]["secure"] is True
    csp = login["headers"]["Content-Security-Policy"]
    assert "script-src 'self';" in csp
    assert "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert login["headers"]["X-Frame-Options"] == "DENY"
    assert login["headers"]["X-Content-Type-Options"] == "nosniff"
    # Plain HTTP is sent to HTTPS, except the load balancer's health probe.
    assert answers["plain"]["status"] == 301
    assert answers["plain"]["headers"]["Location"] == f"https://{HOST}/admin/login/"
    assert answers["health"]["status"] in {200, 503}
    # JSON answers carry HSTS too; a CSP means nothing to them and is left off.
    assert "Strict-Transport-Security" in answers["api"]["headers"]
    assert "Content-Security-Policy" not in answers["api"]["headers"]


def test_without_tls_the_development_defaults_stay(deploy_environment) -> None:
    development = {**deploy_environment, "ACCORD_HTTPS": "0"}
    probed = _run(["-c", PROBE], development)
    assert probed.returncode == 0, probed.stderr
    login = json.loads(probed.stdout.strip().splitlines()[-1])["login"]
    assert "Strict-Transport-Security" not in login["headers"]
    assert login["cookies"]["csrftoken"]["secure"] == ""
    assert "Content-Security-Policy" in login["headers"]
