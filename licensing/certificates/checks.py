"""`manage.py check --deploy` warns when a secret is this checkout's generated one.

`config/secrets.py` generates `SECRET_KEY` and the signing keys' encryption key once per
checkout when they are not set, so a first run needs no setting. That is right for a
laptop and wrong for a deployment (another checkout or machine has other values, and
the file sits beside the code), so the deploy checks say so.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


def _local_secrets() -> dict[str, str]:
    try:
        return json.loads(settings.ACCORD_LOCAL_SECRETS_FILE.read_text())
    except (OSError, ValueError):
        return {}


@register(Tags.security, deploy=True)
def local_secrets_check(app_configs: Any, **kwargs: Any) -> list[Warning]:
    local = _local_secrets()
    warnings = []
    if local.get("SECRET_KEY") and local["SECRET_KEY"] == settings.SECRET_KEY:
        warnings.append(
            Warning(
                "SECRET_KEY is this checkout's generated key, not a configured one.",
                hint="Set SECRET_KEY in the environment (docs/development.md, 'Secrets').",
                id="accord.W001",
            )
        )
    generated = local.get("SIGNING_KEY_ENCRYPTION_KEY")
    if generated and generated in settings.ACCORD_SIGNING_KEY_ENCRYPTION_KEYS:
        warnings.append(
            Warning(
                "The certificate signing keys are encrypted with this checkout's generated key.",
                hint="Set ACCORD_SIGNING_KEY_ENCRYPTION_KEYS and run "
                "`manage.py signing_key_reencrypt` (docs/licensees.md).",
                id="accord.W002",
            )
        )
    return warnings
