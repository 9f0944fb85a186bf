"""Server-rendered SVG charts (no chart library, nothing loaded at run time).

Horizontal positions are percentages and vertical ones pixels, so a chart fills any
width without stretching its text (a viewBox would shrink the labels on a phone)."""
from __future__ import annotations

from datetime import date, timedelta

from flask_babel import format_date
from markupsafe import Markup, escape


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _nice_max(value: int) -> int:
    if value <= 4:
        return 4
    magnitude = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 2.5, 5, 10):
        top = int(step * magnitude)
        if top >= value:
            return top
    return value


def daily_bars(series: dict, days: list[date], label: str, css: str = "bar") -> Markup:
    """A bar per day; `series` maps 'YYYY-MM-DD' (or date) → count."""
    values = [int(series.get(d.isoformat(), series.get(d, 0)) or 0) for d in days]
    height, top, bottom = 190, 14, 22
    plot_h = height - top - bottom
    top_value = _nice_max(max(values or [0]))
    n = max(1, len(values))
    slot = 100 / n
    bar_w = max(slot * 0.7, 0.4)
    parts = [f'<svg class="chart" width="100%" height="{height}" role="img" aria-label="{escape(label)}">']
    for i in range(5):  # grid lines, value labels sitting on them
        v = top_value * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line class="grid" x1="0" x2="100%" y1="{y:.1f}" y2="{y:.1f}"/>')
        if i:
            parts.append(f'<text class="axis" x="0" y="{y - 3:.1f}">{v:g}</text>')
    for i, (d, v) in enumerate(zip(days, values)):
        h = plot_h * v / top_value if top_value else 0
        x = i * slot + (slot - bar_w) / 2
        parts.append(f'<rect class="{css}" x="{x:.2f}%" y="{top + plot_h - h:.1f}" width="{bar_w:.2f}%" '
                     f'height="{h:.1f}" rx="1.5"><title>{d.isoformat()}: {v}</title></rect>')
    ticks = sorted({0, n - 1, *range(0, n, max(1, n // 4))})
    if len(ticks) > 2 and ticks[-1] - ticks[-2] < max(1, n // 5):
        ticks.pop(-2)  # keep the last date readable
    for i in ticks:
        anchor = "start" if i == 0 else "end" if i == n - 1 else "middle"
        x = 0 if i == 0 else 100 if i == n - 1 else i * slot + slot / 2
        parts.append(f'<text class="axis" x="{x:.2f}%" y="{height - 5}" text-anchor="{anchor}">'
                     f'{escape(format_date(days[i], "d MMM"))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def hbars(rows: list[tuple[str, int]], label: str) -> Markup:
    """Horizontal bars, the name and count above each bar (e.g. users by level)."""
    row_h = 40
    height = max(1, len(rows)) * row_h
    top_value = max([v for _, v in rows] or [0]) or 1
    parts = [f'<svg class="chart hbars" width="100%" height="{height}" role="img" aria-label="{escape(label)}">']
    for i, (name, v) in enumerate(rows):
        y = i * row_h
        w = 100 * v / top_value
        parts.append(f'<text class="axis name" x="0" y="{y + 14}" translate="no">{escape(name)}</text>')  # data
        parts.append(f'<text class="value" x="100%" y="{y + 14}" text-anchor="end">{v}</text>')
        parts.append(f'<rect class="track" x="0" y="{y + 20}" width="100%" height="10" rx="5"/>')
        parts.append(f'<rect class="bar level" x="0" y="{y + 20}" width="{w:.2f}%" height="10" rx="5">'
                     f'<title translate="no">{escape(name)}: {v}</title></rect>')
    parts.append("</svg>")
    return Markup("".join(parts))
