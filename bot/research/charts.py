"""Server-rendered SVG for the study dashboard: line charts (optionally with 95% CI whiskers) and
grouped bar charts over a labelled x axis. Like bot/console/svg.py: no script and no inline
styles (the console's CSP forbids both), presentation attributes only, a <title> for screen
readers. Every chart also has its rows for the CSV link under it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape
from typing import Any

WIDTH, HEIGHT = 620, 250
LEFT, RIGHT, TOP, BOTTOM = 46, 150, 14, 40
# Distinguishable for common colour-vision deficiencies (Okabe-Ito).
COLOURS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000")


@dataclass(frozen=True)
class Point:
    x: int  # index into Chart.x_names
    y: float
    low: float | None = None
    high: float | None = None


@dataclass
class Series:
    name: str
    points: list[Point] = field(default_factory=list)


@dataclass
class Chart:
    slug: str  # the CSV's name: /console/study/<slug>.csv
    title: str
    x_label: str
    y_label: str
    x_names: list[str]
    series: list[Series]
    columns: tuple[str, ...]
    rows: list[list[Any]]
    bars: bool = False
    y_max: float | None = None  # a fixed top (100 for percentages)
    note: str = ""  # a sentence under the chart (what the numbers mean)


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _nice(raw: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k at or above `raw`, never below 1."""
    if raw <= 1:
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def _top(chart: Chart) -> float:
    """The axis top: the fixed one, else four round steps that clear the highest value."""
    if chart.y_max is not None:
        return chart.y_max
    values = [p.high if p.high is not None else p.y for s in chart.series for p in s.points]
    return 4 * _nice(max(values, default=0.0) / 4)


def svg(chart: Chart) -> str:
    """The chart as an <svg> element."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = _top(chart)
    count = max(len(chart.x_names), 1)
    slot = plot_w / count

    def x(index: float) -> float:
        return LEFT + slot * (index + 0.5)

    def y(value: float) -> float:
        return TOP + plot_h * (1 - min(value, top) / top)

    label_id = f"chart-{chart.slug}-title"
    out = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-labelledby="{label_id}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{label_id}">{escape(chart.title)}</title>',
    ]
    step = _nice(top / 4)
    for index in range(int(top // step) + 1):
        value = step * index
        out.append(
            f'<line x1="{LEFT}" y1="{_fmt(y(value))}" x2="{LEFT + plot_w}" '
            f'y2="{_fmt(y(value))}" stroke="#e4e4e4"/>'
            f'<text x="{LEFT - 6}" y="{_fmt(y(value) + 4)}" font-size="11" text-anchor="end" '
            f'fill="#333">{_fmt(value)}</text>'
        )
    out.append(
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#555"/>'
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" '
        'stroke="#555"/>'
    )
    every = math.ceil(count / (plot_w // 48))  # labels about 48 px apart never overlap
    for index, name in enumerate(chart.x_names):
        if index % every == 0:
            out.append(
                f'<text x="{_fmt(x(index))}" y="{TOP + plot_h + 15}" font-size="11" '
                f'text-anchor="middle" fill="#333">{escape(name)}</text>'
            )
    out.append(
        f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 6}" font-size="11" text-anchor="middle" '
        f'fill="#333">{escape(chart.x_label)}</text>'
        f'<text x="12" y="{TOP + plot_h / 2}" font-size="11" text-anchor="middle" fill="#333" '
        f'transform="rotate(-90 12 {TOP + plot_h / 2})">{escape(chart.y_label)}</text>'
    )
    if not any(s.points for s in chart.series):
        out.append(
            f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" text-anchor="middle" '
            'font-size="13" fill="#333">No data yet</text></svg>'
        )
        return "".join(out)
    out += _bars(chart, x, y, slot) if chart.bars else _lines(chart, x, y)
    for index, series in enumerate(chart.series):
        colour = COLOURS[index % len(COLOURS)]
        ly = TOP + 8 + 18 * index
        out.append(
            f'<rect x="{WIDTH - RIGHT + 12}" y="{ly - 8}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{WIDTH - RIGHT + 30}" y="{ly + 2}" font-size="11" fill="#111">'
            f"{escape(series.name)}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def _lines(chart: Chart, x: Any, y: Any) -> list[str]:
    out = []
    for index, series in enumerate(chart.series):
        colour = COLOURS[index % len(COLOURS)]
        points = sorted(series.points, key=lambda p: p.x)
        # Series side by side within a week, so their whiskers do not hide each other.
        shift = (index - (len(chart.series) - 1) / 2) * 4
        if len(points) > 1:
            path = " ".join(f"{_fmt(x(p.x) + shift)},{_fmt(y(p.y))}" for p in points)
            out.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        for p in points:
            cx = _fmt(x(p.x) + shift)
            if p.low is not None and p.high is not None:
                out.append(
                    f'<line x1="{cx}" y1="{_fmt(y(max(p.low, 0)))}" x2="{cx}" '
                    f'y2="{_fmt(y(p.high))}" stroke="{colour}" stroke-width="1"/>'
                )
            out.append(f'<circle cx="{cx}" cy="{_fmt(y(p.y))}" r="3" fill="{colour}"/>')
    return out


def _bars(chart: Chart, x: Any, y: Any, slot: float) -> list[str]:
    out = []
    width = slot * 0.8 / max(len(chart.series), 1)
    for index, series in enumerate(chart.series):
        colour = COLOURS[index % len(COLOURS)]
        for p in series.points:
            left = x(p.x) - slot * 0.4 + width * index
            out.append(
                f'<rect x="{_fmt(left)}" y="{_fmt(y(p.y))}" width="{_fmt(width)}" '
                f'height="{_fmt(y(0) - y(p.y))}" fill="{colour}"/>'
            )
    return out
