"""Browser tests: Debian's headless Chromium driven by Playwright against the live server.

Any test under `tests/browser/` gets:

- `page`: a fresh Chromium page (1400x1000, 15 s timeouts) that records every
  Content-Security-Policy violation from the first moment of each document
  (`csp_violations(page)` reads them);
- `portal_login(username, password)`: logs in to the portal (`/admin/`) on that page;
- `screenshot(name)`: saves a full-page PNG as `tests/artifacts/<name>.png` (gitignored,
  kept by CI as an artefact) and returns its path;
- `make_portal_creator(username, **fields)`: a creator who can log in with `PASSWORD`.

Mark each test `@pytest.mark.browser` and `@pytest.mark.django_db(transaction=True)`
(the live server runs in another thread, so it must see committed rows). The browser is
`/usr/bin/chromium` (Debian's package, or `CHROMIUM_PATH`): never `playwright install`,
never a downloaded browser. Without Chromium a browser test is skipped with its reason,
except in CI (`CI=true` or `ACCORD_REQUIRE_SERVICES=1`), where it fails: tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from licensing.models import Creator
from tests.conftest import CHROMIUM_PATH
from tests.factories import CreatorFactory

PASSWORD = "correct horse battery staple"
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # the CI container runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Installed before any of a document's own scripts, so an inline script is caught too.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def csp_violations(page: Any) -> list[str]:
    return list(page.evaluate("window.__cspViolations || []"))


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    """Hash test passwords cheaply; the real hasher's cost is the point in production."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def page(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls
    # between browser steps are plain synchronous code all the same.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(15_000)
        page.add_init_script(RECORD_CSP_VIOLATIONS)
        try:
            yield page
        finally:
            browser.close()
            # ORM calls made while Playwright's loop runs get their own connection
            # (Django's connections are context-local); close it, or PostgreSQL cannot
            # drop the test database at the end of the run.
            connections.close_all()


@pytest.fixture
def portal_login(page: Any, live_server: Any) -> Callable[[str, str], None]:
    def login(username: str, password: str = PASSWORD) -> None:
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("form [type=submit]")
        page.wait_for_url(f"{live_server.url}/admin/")

    return login


@pytest.fixture
def screenshot(page: Any) -> Callable[[str], Path]:
    def save(name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


@pytest.fixture
def make_portal_creator(db: Any) -> Callable[..., Creator]:
    def make(username: str, **fields: Any) -> Creator:
        fields.setdefault("password", PASSWORD)
        return CreatorFactory(username=username, **fields)

    return make
