"""A creator in a real browser: log in, open last January's statement and the earnings
chart, and check that every bar of the chart is a row of the table beside it.

Screenshots of the statement and both charts go to `tests/artifacts/` (issue 16: "What
must show it"). The history is a flat sale and a posted per-unit run, through the
services (tests/payouts/statements/conftest.py builds the same one).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.factories import OfferFactory, OfferTermsFactory, OrganizationFactory, WorkFactory
from tests.payouts.royalty_fixtures import FakeUsage, buy
from tests.payouts.statements.fixtures import run_posted


def _history(creator, monkeypatch) -> None:
    """A sale and a posted run in the current month and the one before, so the chart has bars."""
    now = datetime.now(UTC)
    previous = (now.year * 12 + now.month - 2) // 12, (now.year * 12 + now.month - 2) % 12 + 1
    period = f"{previous[0]:04d}-{previous[1]:02d}"
    organization = OrganizationFactory(slug="north-lab", name="North Lab")
    songs = WorkFactory(creator=creator, title="Songs of the Tide")
    essays = WorkFactory(creator=creator, title="Harbour Essays")
    flat = OfferFactory(creator=creator, work=songs, terms=OfferTermsFactory(amount=1_250))
    per_unit = OfferFactory(
        creator=creator, work=essays, use="ai-eval", terms=OfferTermsFactory(per_unit=True)
    )
    start = datetime(previous[0], previous[1], 3, tzinfo=UTC)
    buy(monkeypatch, organization=organization, offer=flat, at=start)
    buy(monkeypatch, organization=organization, offer=flat, at=now)
    license = buy(monkeypatch, organization=organization, offer=per_unit, at=start)
    FakeUsage(monkeypatch).declare(period, license, essays, 250_000)
    run_posted(period, monkeypatch, username="browser-finance")
    return period


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_creator_reads_a_statement_and_the_chart_matches_its_table(
    live_server, page, portal_login, screenshot, make_portal_creator, monkeypatch
) -> None:
    from tests.browser.conftest import csp_violations

    creator = make_portal_creator("marina", display_name="Marina Sol")
    period = _history(creator, monkeypatch)
    statement_id = f"stm_{creator.public_id}_{period}_eur"

    portal_login("marina")
    page.click("#home-money-links >> text=Statements")
    page.wait_for_url(f"{live_server.url}/admin/statements/")
    page.click(f"tr[data-statement='{statement_id}'] >> a >> nth=0")
    page.wait_for_url(f"{live_server.url}/admin/statements/{statement_id}/")
    assert page.inner_text("#statement-status") == "final"
    assert page.inner_text("#statement-commission") == "10.00%"
    # 12.50 less 10 %: 11.25; 250,000 tokens at 0.042 cents: 105.00 gross, 94.50 net.
    assert page.inner_text("#statement-earned") == "€105.75"
    assert page.inner_text("#statement-closing") == "€105.75"
    assert page.locator("#statement-lines tbody tr").count() == 2
    assert page.get_attribute("#download-pdf", "href").endswith(f"{statement_id}.pdf")
    assert csp_violations(page) == []
    screenshot("statement_detail")

    for by in ("work", "licensee"):
        page.goto(f"{live_server.url}/admin/earnings/?by={by}")
        bars = page.eval_on_selector_all(
            "#earnings-chart rect.earnings-bar",
            "rects => rects.map(r => [r.dataset.period, r.dataset.name, r.dataset.netMicros,"
            " r.getBoundingClientRect().height])",
        )
        rows = page.eval_on_selector_all(
            "#earnings-table tr.earnings-part",
            "rows => rows.map(r => [r.dataset.period, r.dataset.name, r.dataset.netMicros])",
        )
        months = page.eval_on_selector_all(
            "#earnings-table tbody",
            "bodies => bodies.map(b => [b.dataset.period, b.dataset.netMicros])",
        )
        assert sorted(bar[:3] for bar in bars) == sorted(rows)
        assert all(bar[3] > 0 for bar in bars)  # drawn, not just listed
        for month, total in months:
            assert sum(int(bar[2]) for bar in bars if bar[0] == month) == int(total)
        assert csp_violations(page) == []
        screenshot(f"earnings_by_{by}")

    by_licensee = {(month, name): int(net) for month, name, net in rows}
    assert by_licensee == {
        (period, "North Lab"): 105_750_000,
        (f"{datetime.now(UTC):%Y-%m}", "North Lab"): 11_250_000,
    }
