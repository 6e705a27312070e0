"""The portal works under its Content-Security-Policy (issue 13, finding 16).

Headless Chromium logs in to the admin as a superuser and opens the index, every
model's list and every add form it links to, then the public work page and the API
docs; every page must load with no CSP violation, which means the admin's scripts and
styles all come from files (none inline). A violation is read from the browser's own
`securitypolicyviolation` events, so a new inline script in a template fails here.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connections

from licensing import services
from tests.conftest import CHROMIUM_PATH
from tests.licensing.test_browser import CHROMIUM_ARGS

PASSWORD = "correct horse battery staple"
# Records violations from the first moment of every page, before its own scripts run.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.fixture
def page(monkeypatch):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(15_000)
        page.add_init_script(RECORD_VIOLATIONS)
        try:
            yield page
        finally:
            browser.close()
            connections.close_all()


def _violations_on(page, url: str) -> list[str]:
    response = page.goto(url)
    assert response is not None, url
    assert response.status == 200, url
    assert "Content-Security-Policy" in {name.title() for name in response.headers}, url
    return [f"{url}: {violation}" for violation in page.evaluate("window.__cspViolations")]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_every_admin_list_and_add_form_loads_without_a_csp_violation(
    live_server, page, settings
) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    get_user_model().objects.create_superuser("portal-admin", "admin@example.com", PASSWORD)
    creator = services.creator_create(username="csp-alice", password=None)
    work = services.work_create(creator=creator, title="Harbour", kind="text")

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "portal-admin")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")

    violations = _violations_on(page, f"{live_server.url}/admin/")
    links = page.eval_on_selector_all(
        "#content-main a.addlink, #content-main th[scope=row] a",
        "anchors => anchors.map(a => a.getAttribute('href'))",
    )
    assert len(links) > 10  # the index really lists the apps' models
    for link in sorted(set(links)):
        violations += _violations_on(page, f"{live_server.url}{link}")
    violations += _violations_on(page, f"{live_server.url}/works/{work.public_id}")
    violations += _violations_on(page, f"{live_server.url}/api/v1/docs/")
    assert page.locator("#swagger-ui .info").count() == 1  # Swagger UI really rendered

    assert violations == []
