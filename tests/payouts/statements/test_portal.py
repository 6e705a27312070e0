"""The portal's statement and earnings pages: a creator's own, 404 for anyone else's."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from licensing.services.creators import finance_user_create
from payouts.portal.chart import earnings_chart
from payouts.selectors.earnings import EarningsMonth, EarningsPart
from tests.factories import CreatorFactory

pytestmark = pytest.mark.django_db


def portal(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_statement_pages_show_the_statement_and_link_its_files(catalogue, history):
    alice = catalogue.alice
    client = portal(alice.user)
    statement_id = f"stm_{alice.public_id}_2026-01_eur"

    listed = client.get("/admin/statements/")
    assert listed.status_code == 200
    assert f"/admin/statements/{statement_id}/" in listed.content.decode()

    page = client.get(f"/admin/statements/{statement_id}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "€384.000678" in html  # closing, with its sub-cent digits
    assert "€378.000378" in html  # the run's line
    assert "10.00%" in html
    assert "1 January 2026 to 31 January 2026" in html
    assert f'href="/admin/statements/{statement_id}.csv"' in html
    assert f'href="/admin/statements/{statement_id}.pdf"' in html
    assert client.get(f"/admin/statements/{statement_id}.pdf")["Content-Type"] == "application/pdf"
    csv_text = client.get(f"/admin/statements/{statement_id}.csv").content.decode()
    assert "closing_balance" in csv_text
    assert "38400.0678" in csv_text


def test_another_creators_statement_is_404_in_the_portal(catalogue, history):
    bob_statement = f"stm_{catalogue.bob.public_id}_2026-01_eur"
    client = portal(catalogue.alice.user)

    for suffix in ("/", ".csv", ".pdf"):
        assert client.get(f"/admin/statements/{bob_statement}{suffix}").status_code == 404
    staff = portal(finance_user_create(username="fin-portal"))
    assert staff.get("/admin/statements/").status_code == 404
    assert Client().get("/admin/statements/").status_code == 302  # to the login


def test_empty_states_say_what_to_do(db):
    client = portal(CreatorFactory(username="fresh").user)

    statements = client.get("/admin/statements/").content.decode()
    earnings = client.get("/admin/earnings/").content.decode()

    assert 'id="statements-empty"' in statements
    assert "offer a work" in statements
    assert 'id="earnings-empty"' in earnings


def test_earnings_page_bars_match_its_table(catalogue, history):
    client = portal(catalogue.alice.user)

    html = client.get("/admin/earnings/?months=36").content.decode()

    bars = re.findall(
        r'<rect class="earnings-bar"[^>]*data-period="([\d-]+)"[^>]*data-net-micros="(-?\d+)"', html
    )
    parts = re.findall(
        r'<tr class="earnings-part" data-period="([\d-]+)"[^>]*data-net-micros="(-?\d+)"', html
    )
    assert sorted(bars) == sorted(parts)
    if any(period == "2026-01" for period, _ in parts):  # within the last twelve months
        assert sorted(int(m) for p, m in bars if p == "2026-01") == [6_000_300, 378_000_378]
    by_licensee = client.get("/admin/earnings/?by=licensee").content.decode()
    assert 'data-by="licensee"' in by_licensee


def test_chart_heights_follow_the_micros_and_negative_parts_hang_below_the_axis():
    months = [
        EarningsMonth(
            "2026-01", 300, (EarningsPart("w1", "One", 200), EarningsPart("w2", "Two", 100)), ()
        ),
        EarningsMonth("2026-02", -50, (EarningsPart("w1", "One", -50),), ()),
        EarningsMonth("2026-03", 0, (), ()),
    ]

    chart = earnings_chart(months, by="work")

    january = [bar for bar in chart.bars if bar.period == "2026-01"]
    assert [bar.net_micros for bar in january] == [200, 100]
    assert abs(january[0].height - 2 * january[1].height) <= 1  # whole pixels
    assert january[0].y + january[0].height == chart.axis_y
    (february,) = [bar for bar in chart.bars if bar.period == "2026-02"]
    assert february.y == chart.axis_y
    assert [series.name for series in chart.series] == ["One", "Two"]
    assert [label.text for label in chart.labels] == ["Jan 26", "Feb 26", "Mar 26"]
