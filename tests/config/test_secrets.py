"""SECRET_KEY and the signing keys' encryption key (issue 13 #2).

Production (DEBUG off) refuses a default, empty or weak SECRET_KEY and, where local
secrets are not allowed, a missing one; a first run gets per-checkout generated
values. The signing keys are sealed under their own setting, so SECRET_KEY alone does
not open them; keys sealed under SECRET_KEY before still open, until
`signing_key_reencrypt` moves them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from config.secrets import (
    secret_key_setting,
    secret_key_weakness,
    signing_key_encryption_keys_setting,
)
from licensing.certificates import keys
from licensing.certificates.models import SigningKey

PUBLISHED_KEY = "accord-development-only-key-do-not-use-in-production"
STRONG_KEY = "k" + "x7Qp2vLm9sT4wZ8rB1nY6cF3hJ5dG0aE" * 2


@pytest.mark.parametrize(
    "value", ["", PUBLISHED_KEY, "django-insecure-" + "a1b2c3d4" * 8, "short", "a" * 60]
)
def test_production_refuses_a_default_or_weak_secret_key(value: str, tmp_path: Path) -> None:
    assert secret_key_weakness(value)
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY is not fit for DEBUG=False"):
        secret_key_setting(
            configured=value, debug=False, local_allowed=True, local_file=tmp_path / "s.json"
        )
    # DEBUG on (a developer's machine) may run with it.
    assert (
        secret_key_setting(
            configured=value, debug=True, local_allowed=True, local_file=tmp_path / "s.json"
        )
        == value
    )


def test_production_refuses_a_missing_secret_key_where_local_secrets_are_off(
    tmp_path: Path,
) -> None:
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY is not set"):
        secret_key_setting(
            configured=None, debug=False, local_allowed=False, local_file=tmp_path / "s.json"
        )
    with pytest.raises(ImproperlyConfigured, match="ACCORD_SIGNING_KEY_ENCRYPTION_KEYS"):
        signing_key_encryption_keys_setting(
            configured=None, debug=False, local_allowed=False, local_file=tmp_path / "s.json"
        )
    assert not (tmp_path / "s.json").exists()


def test_a_first_run_generates_each_secret_once_per_checkout(tmp_path: Path) -> None:
    local_file = tmp_path / "secrets.json"
    arguments = {
        "configured": None,
        "debug": False,
        "local_allowed": True,
        "local_file": local_file,
    }

    first = secret_key_setting(**arguments)
    encryption = signing_key_encryption_keys_setting(**arguments)

    assert secret_key_weakness(first) is None
    assert secret_key_setting(**arguments) == first
    assert signing_key_encryption_keys_setting(**arguments) == encryption
    Fernet(encryption[0])  # a valid Fernet key
    assert encryption[0] != first
    assert oct(local_file.stat().st_mode & 0o777) == "0o600"
    assert json.loads(local_file.read_text()) == {
        "SECRET_KEY": first,
        "SIGNING_KEY_ENCRYPTION_KEY": encryption[0],
    }


def test_a_configured_encryption_key_must_be_a_fernet_key(tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match="entry 2 is not a Fernet key"):
        signing_key_encryption_keys_setting(
            configured=[Fernet.generate_key().decode(), "not-a-key"],
            debug=True,
            local_allowed=True,
            local_file=tmp_path / "s.json",
        )


def _start(environment: dict[str, str]) -> subprocess.CompletedProcess:
    """Load the real settings in a fresh process, as a server would at start-up."""
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SECRET_KEY", "ACCORD_", "STRIPE_", "DEBUG", "DJANGO_"))
    }
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", **environment},
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_settings_refuse_to_start_production_with_the_published_key(tmp_path: Path) -> None:
    local_file = str(tmp_path / "secrets.json")

    published = _start(
        {"DEBUG": "0", "SECRET_KEY": PUBLISHED_KEY, "ACCORD_LOCAL_SECRETS_FILE": local_file}
    )
    real_stripe_without_key = _start(
        {"DEBUG": "0", "STRIPE_SECRET_KEY": "sk_test_x", "ACCORD_LOCAL_SECRETS_FILE": local_file}
    )
    first_run = _start({"ACCORD_LOCAL_SECRETS_FILE": local_file})

    assert published.returncode != 0
    assert "published in this repository" in published.stderr
    assert real_stripe_without_key.returncode != 0
    assert "SECRET_KEY is not set" in real_stripe_without_key.stderr
    assert first_run.returncode == 0, first_run.stderr


def _legacy_seal(private_jwk: bytes) -> bytes:
    """How signing keys were sealed before they had their own key: under SECRET_KEY."""
    derived = hashlib.sha256(
        b"accord-certificate-keys:" + django_settings.SECRET_KEY.encode()
    ).digest()
    return Fernet(base64.urlsafe_b64encode(derived)).encrypt(private_jwk)


@pytest.mark.django_db
def test_secret_key_alone_does_not_open_a_signing_key(settings) -> None:
    key = keys.signing_key_rotate()
    derived = hashlib.sha256(b"accord-certificate-keys:" + settings.SECRET_KEY.encode()).digest()

    with pytest.raises(InvalidToken):
        Fernet(base64.urlsafe_b64encode(derived)).decrypt(bytes(key.private_jwk_encrypted))
    opened = Fernet(settings.ACCORD_SIGNING_KEY_ENCRYPTION_KEYS[0]).decrypt(
        bytes(key.private_jwk_encrypted)
    )
    assert json.loads(opened)["kid"] == key.kid


@pytest.mark.django_db
def test_keys_sealed_under_secret_key_still_open_and_reencrypt_moves_them(settings) -> None:
    key = keys.signing_key_rotate()
    private_jwk = keys.private_jwk_unseal(bytes(key.private_jwk_encrypted), kid=key.kid)
    SigningKey.objects.filter(pk=key.pk).update(private_jwk_encrypted=_legacy_seal(private_jwk))
    keys._private_key.cache_clear()

    assert keys.signing_key_current()[0] == key.kid  # still signs
    call_command("signing_key_reencrypt")

    key.refresh_from_db()
    assert (
        Fernet(settings.ACCORD_SIGNING_KEY_ENCRYPTION_KEYS[0]).decrypt(
            bytes(key.private_jwk_encrypted)
        )
        == private_jwk
    )


@pytest.mark.django_db
def test_rotating_the_encryption_key(settings, capsys: pytest.CaptureFixture) -> None:
    key = keys.signing_key_rotate()
    old_encryption_key = settings.ACCORD_SIGNING_KEY_ENCRYPTION_KEYS[0]
    new_encryption_key = Fernet.generate_key().decode()

    # 1. The new key first, the old one still listed: everything opens; re-encrypt.
    settings.ACCORD_SIGNING_KEY_ENCRYPTION_KEYS = [new_encryption_key, old_encryption_key]
    call_command("signing_key_reencrypt")
    assert "1 signing keys sealed" in capsys.readouterr().out
    # 2. The old key dropped: the signing key still opens, and signs.
    settings.ACCORD_SIGNING_KEY_ENCRYPTION_KEYS = [new_encryption_key]
    keys._private_key.cache_clear()
    assert keys.signing_key_current()[0] == key.kid
    # A key nobody configured opens nothing: the command says so and changes nothing.
    settings.ACCORD_SIGNING_KEY_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(Exception, match="decrypts with none"):
        call_command("signing_key_reencrypt")
    keys._private_key.cache_clear()
