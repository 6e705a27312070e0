"""The earnings chart as SVG geometry: stacked bars per month, drawn by the server.

No charting library and no script: the page's CSP allows neither inline code nor a
CDN, and a bar chart is a few rectangles. Each rectangle carries what it shows as data
attributes (`data-period`, `data-key`, `data-net-micros`), so a test (and a screen
reader's table beside it) can check the picture against the numbers. Heights are
proportional to the exact micros; only the pixel geometry is rounded, never a figure.
Positive parts stack up from the axis, negative ones (a late correction) down.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from payouts.selectors.earnings import EarningsMonth

WIDTH = 600
HEIGHT = 260
PLOT_TOP = 16
PLOT_BOTTOM = 40  # room for the month labels
PLOT_LEFT = 8
# Distinct, colour-blind-safe hues (Okabe-Ito), in the order parts are listed.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
OTHERS_COLOUR = "#999999"
SERIES_MAX = len(PALETTE)


@dataclass(frozen=True)
class Bar:
    period: str
    key: str
    name: str
    net_micros: int
    x: int
    y: int
    width: int
    height: int
    colour: str


@dataclass(frozen=True)
class Label:
    x: int
    y: int
    text: str


@dataclass(frozen=True)
class Series:
    key: str
    name: str
    colour: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    axis_y: int
    bars: tuple[Bar, ...]
    labels: tuple[Label, ...]
    series: tuple[Series, ...]


def _series(months: Sequence[EarningsMonth], by: str) -> list[tuple[str, str]]:
    """The parts named in the legend: the largest over the months; the rest are "others"."""
    totals: dict[tuple[str, str], int] = {}
    for month in months:
        for part in getattr(month, f"by_{by}"):
            key = (part.id or "", part.name)
            totals[key] = totals.get(key, 0) + abs(part.net_micros)
    ranked = sorted(totals, key=lambda key: (-totals[key], key[1], key[0]))
    return ranked[: SERIES_MAX - 1] if len(ranked) > SERIES_MAX else ranked


def _month_label(period: str) -> str:
    year, month = period.split("-")
    return f"{datetime.date(int(year), int(month), 1):%b} {year[2:]}"


def earnings_chart(months: Sequence[EarningsMonth], *, by: str = "work") -> Chart:
    assert by in {"work", "licensee"}, by
    named = _series(months, by)
    colours = {key: PALETTE[index] for index, key in enumerate(named)}
    stacks = []
    for month in months:
        parts: dict[tuple[str, str], int] = {}
        for part in getattr(month, f"by_{by}"):
            key = (part.id or "", part.name)
            if key not in colours:
                key = ("others", "Others")
            parts[key] = parts.get(key, 0) + part.net_micros
        stacks.append((month.period, parts))
    top = max((sum(v for v in p.values() if v > 0) for _, p in stacks), default=0)
    bottom = max((-sum(v for v in p.values() if v < 0) for _, p in stacks), default=0)
    span = max(top + bottom, 1)
    plot = HEIGHT - PLOT_TOP - PLOT_BOTTOM
    axis_y = PLOT_TOP + round(plot * top / span)
    slot = (WIDTH - PLOT_LEFT) // max(len(months), 1)
    bar_width = max(slot * 3 // 5, 4)
    bars, labels = [], []
    for index, (period, parts) in enumerate(stacks):
        x = PLOT_LEFT + index * slot + (slot - bar_width) // 2
        up = down = 0
        for key, micros in parts.items():
            if micros == 0:
                continue
            if micros > 0:
                y0 = axis_y - round(plot * (up + micros) / span)
                y1 = axis_y - round(plot * up / span)
                up += micros
            else:
                y0 = axis_y + round(plot * down / span)
                y1 = axis_y + round(plot * (down - micros) / span)
                down -= micros
            bars.append(
                Bar(
                    period=period,
                    key=key[0],
                    name=key[1],
                    net_micros=micros,
                    x=x,
                    y=y0,
                    width=bar_width,
                    height=max(y1 - y0, 1),
                    colour=colours.get(key, OTHERS_COLOUR),
                )
            )
        labels.append(
            Label(x=x + bar_width // 2, y=HEIGHT - PLOT_BOTTOM + 16, text=_month_label(period))
        )
    series = [Series(key[0], key[1], colours[key]) for key in named]
    if any(bar.key == "others" for bar in bars):
        series.append(Series("others", "Others", OTHERS_COLOUR))
    return Chart(WIDTH, HEIGHT, axis_y, tuple(bars), tuple(labels), tuple(series))
