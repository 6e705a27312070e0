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

from licensing.services.creators import creator_create
from licensing.services.works import work_create
from tests.browser.conftest import PASSWORD, csp_violations


def _violations_on(page, url: str) -> list[str]:
    response = page.goto(url)
    assert response is not None, url
    assert response.status == 200, url
    assert "Content-Security-Policy" in {name.title() for name in response.headers}, url
    return [f"{url}: {violation}" for violation in csp_violations(page)]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_every_admin_list_and_add_form_loads_without_a_csp_violation(
    live_server, page, portal_login
) -> None:
    get_user_model().objects.create_superuser("portal-admin", "admin@example.com", PASSWORD)
    creator = creator_create(username="csp-alice", password=None)
    work = work_create(creator=creator, title="Harbour", kind="text")

    portal_login("portal-admin")

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
