"""Demo data and the demo's main job, shared by `load_demo_data` and `serve_demo`.

Each app contributes one idempotent loader (listed in `DEMO_LOADERS`, in dependency
order) that returns the logins it created (`config.demo.DemoLogin`); running them
twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.utils.module_loading import import_string

from config.demo import DEMO_PASSWORD, DemoLogin

__all__ = ["demo_data_load", "demo_job_run", "logins_format"]


def demo_staff_load() -> list[DemoLogin]:
    """Create the operator's superuser, once."""
    user_model = get_user_model()
    if not user_model.objects.filter(username="admin").exists():
        user_model.objects.create_superuser("admin", "admin@accord.example", DEMO_PASSWORD)
    return [DemoLogin(role="staff (superuser)", username="admin", password=DEMO_PASSWORD)]


DEMO_LOADERS: tuple[str, ...] = (
    "payouts.demo.demo_staff_load",
    "licensing.demo.demo_catalogue_load",
    "licensing.demo_licensees.demo_licensees_load",
)

# The main job, step by step, as far as it exists: each is a callable returning a
# one-line summary of what it did.
DEMO_JOB_STEPS: tuple[str, ...] = (
    "licensing.demo_licensees.demo_purchases_run",
    "payouts.demo_royalties.demo_royalties_run",  # credits payables the next step pays
    "payouts.demo_payouts.demo_payouts_run",
    "payouts.demo_statements.demo_statements_run",  # reads what the steps above posted
    "ledger.demo.demo_ledger_seal",
)


def demo_data_load() -> list[DemoLogin]:
    logins: list[DemoLogin] = []
    for loader_path in DEMO_LOADERS:
        loader: Callable[[], list[DemoLogin]] = import_string(loader_path)
        logins.extend(loader())
    return logins


def demo_job_run() -> list[str]:
    return [import_string(step_path)() for step_path in DEMO_JOB_STEPS]


def logins_format(logins: list[DemoLogin]) -> str:
    lines = ["Logins (portal: http://127.0.0.1:8000/admin/):"]
    for login in logins:
        secret = f"password {login.password}" if login.password else ""
        key = f"API key {login.api_key}" if login.api_key else ""
        lines.append(f"  {login.role:<22} {login.username:<16} {secret}  {key}".rstrip())
    return "\n".join(lines)
