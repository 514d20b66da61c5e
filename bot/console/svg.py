"""A small server-side SVG line chart of one measure's totals over time, on its severity bands.

No script and no inline styles (the console's CSP forbids both): presentation attributes only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

from flows.measures import get_measure

WIDTH, HEIGHT = 520, 220
LEFT, RIGHT, TOP, BOTTOM = 40, 150, 12, 30
# Band fills from calm to severe; light enough that dark text and points stay readable on them.
FILLS = ("#e3f2e1", "#f3f0d2", "#fbe3c6", "#f7cfc0", "#f0b9b9")


@dataclass(frozen=True)
class Point:
    at: datetime
    total: int
    flagged: bool = False  # PHQ-9 item 9 answered above 0 in this completion


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def trend_svg(measure_id: str, points: Sequence[Point], title: str) -> str:
    """The chart as an <svg> element; `title` names it for screen readers."""
    measure = get_measure(measure_id)
    top = measure.max_total
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(total: float) -> float:
        return TOP + plot_h * (1 - total / top)

    ordered = sorted(points, key=lambda p: p.at)
    start = ordered[0].at if ordered else None
    span = (ordered[-1].at - ordered[0].at).total_seconds() if len(ordered) > 1 else 0.0

    inset = 16  # keeps the first and last points (and their labels) off the axes

    def x(at: datetime) -> float:
        if not span or start is None:
            return LEFT + plot_w / 2
        return LEFT + inset + (plot_w - 2 * inset) * (at - start).total_seconds() / span

    label_id = f"chart-{measure_id}-title"
    out = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-labelledby="{label_id}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{label_id}">{escape(title)}</title>',
    ]
    for index, band in enumerate(measure.bands):
        low, high = y(band.high + 1 if band.high < top else top), y(band.low)
        fill = FILLS[min(index, len(FILLS) - 1)]
        out.append(
            f'<rect x="{LEFT}" y="{_fmt(low)}" width="{plot_w}" height="{_fmt(high - low)}" '
            f'fill="{fill}"/>'
        )
        middle = (low + high) / 2
        out.append(
            f'<text x="{WIDTH - RIGHT + 6}" y="{_fmt(middle + 4)}" font-size="11" '
            f'fill="#333">{escape(band.label.replace("_", " "))} {band.low}-{band.high}</text>'
        )
        out.append(
            f'<text x="{LEFT - 6}" y="{_fmt(high + 4)}" font-size="11" text-anchor="end" '
            f'fill="#333">{band.low}</text>'
        )
    out.append(
        f'<text x="{LEFT - 6}" y="{_fmt(TOP + 4)}" font-size="11" text-anchor="end" '
        f'fill="#333">{top}</text>'
    )
    # Axes.
    out.append(
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#555"/>'
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" '
        'stroke="#555"/>'
    )
    if not ordered:
        out.append(
            f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" text-anchor="middle" '
            'font-size="13" fill="#333">No scores yet</text></svg>'
        )
        return "".join(out)
    dates = {ordered[0].at.strftime("%b %d"), ordered[-1].at.strftime("%b %d")}
    out.append(
        f'<text x="{LEFT + inset}" y="{HEIGHT - 8}" font-size="11" text-anchor="middle" '
        f'fill="#333">{ordered[0].at:%b %d}</text>'
    )
    if len(dates) > 1:
        out.append(
            f'<text x="{LEFT + plot_w - inset}" y="{HEIGHT - 8}" font-size="11" '
            'text-anchor="middle" '
            f'fill="#333">{ordered[-1].at:%b %d}</text>'
        )
    coords = [(x(p.at), y(p.total)) for p in ordered]
    if len(coords) > 1:
        path = " ".join(f"{_fmt(cx)},{_fmt(cy)}" for cx, cy in coords)
        out.append(f'<polyline points="{path}" fill="none" stroke="#1f4e79" stroke-width="2"/>')
    for point, (cx, cy) in zip(ordered, coords, strict=True):
        colour = "#b00020" if point.flagged else "#1f4e79"
        out.append(
            f'<circle cx="{_fmt(cx)}" cy="{_fmt(cy)}" r="{6 if point.flagged else 4}" '
            f'fill="{colour}" stroke="#fff" stroke-width="1.5"/>'
        )
        out.append(
            f'<text x="{_fmt(cx)}" y="{_fmt(cy - 9)}" font-size="11" text-anchor="middle" '
            f'fill="#111">{point.total}{" !" if point.flagged else ""}</text>'
        )
    out.append("</svg>")
    return "".join(out)
