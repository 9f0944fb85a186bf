"""Server-rendered SVG charts (no chart library, nothing loaded at run time)."""
from __future__ import annotations

from datetime import date, timedelta

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
    """A bar per day; `series` maps 'YYYY-MM-DD' (or date) → count. Responsive via viewBox."""
    values = [int(series.get(d.isoformat(), series.get(d, 0)) or 0) for d in days]
    width, height, left, bottom, top = 640, 200, 34, 22, 10
    plot_w, plot_h = width - left - 8, height - bottom - top
    top_value = _nice_max(max(values or [0]))
    n = max(1, len(values))
    slot = plot_w / n
    bar_w = max(1.0, slot * 0.7)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" '
             f'preserveAspectRatio="none">']
    for i in range(5):  # grid + y labels
        v = top_value * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line class="grid" x1="{left}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{v:g}</text>')
    for i, (d, v) in enumerate(zip(days, values)):
        h = plot_h * v / top_value if top_value else 0
        x = left + i * slot + (slot - bar_w) / 2
        y = top + plot_h - h
        parts.append(f'<rect class="{css}" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}">'
                     f'<title>{d.isoformat()}: {v}</title></rect>')
    step = max(1, n // 6)
    for i in range(0, n, step):
        x = left + i * slot + slot / 2
        parts.append(f'<text class="axis" x="{x:.1f}" y="{height - 6}" text-anchor="middle">'
                     f'{days[i].strftime("%d %b")}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def hbars(rows: list[tuple[str, int]], label: str) -> Markup:
    """Horizontal bars (e.g. users by level)."""
    width, row_h, left = 640, 30, 150
    height = max(1, len(rows)) * row_h + 8
    top_value = max([v for _, v in rows] or [0]) or 1
    parts = [f'<svg class="chart hbars" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">']
    for i, (name, v) in enumerate(rows):
        y = 4 + i * row_h
        w = (width - left - 60) * v / top_value
        parts.append(f'<text class="axis" x="{left - 8}" y="{y + 19}" text-anchor="end">{escape(name)}</text>')
        parts.append(f'<rect class="bar level" x="{left}" y="{y + 4}" width="{max(w, 1):.1f}" height="{row_h - 10}">'
                     f'<title>{escape(name)}: {v}</title></rect>')
        parts.append(f'<text class="value" x="{left + w + 6:.1f}" y="{y + 19}">{v}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
