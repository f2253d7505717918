"""Small inline SVG charts for the static daily report: no script, nothing to download."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 80, 160, 36, 70


def _scale(values: Sequence[float]) -> tuple[float, float]:
    low = min([0.0, *values])
    high = max([0.0, *values])
    return (low, high if high > low else low + 1.0)


def _y(value: float, low: float, high: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - (value - low) / (high - low))


def _axes(low: float, high: float, labels: Sequence[str], step: int) -> list[str]:
    parts = [
        f'<line x1="{LEFT}" y1="{_y(0, low, high):.1f}" x2="{WIDTH - RIGHT}" '
        f'y2="{_y(0, low, high):.1f}" stroke="#888"/>'
    ]
    decimals = 1 if high - low < 10 else 0
    for tick in range(5):
        value = low + (high - low) * tick / 4
        y = _y(value, low, high)
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">'
            f"{value:,.{decimals}f}</text>"
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#eee"/>'
        )
    span = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    slanted = any(len(label) > 6 for label in labels) and len(labels) > 4
    for i, label in enumerate(labels):
        if i % step == 0:
            x, y = LEFT + span * (i + 0.5), HEIGHT - BOTTOM + 16
            turn = f' transform="rotate(-30 {x:.1f} {y})"' if slanted else ""
            anchor = "end" if slanted else "middle"
            parts.append(
                f'<text x="{x:.1f}" y="{y}" text-anchor="{anchor}" font-size="11"{turn}>'
                f"{escape(label)}</text>"
            )
    return parts


def _legend(names: Sequence[str]) -> list[str]:
    return [
        f'<rect x="{WIDTH - RIGHT + 12}" y="{TOP + 18 * i}" width="12" height="12" '
        f'fill="{PALETTE[i % len(PALETTE)]}"/><text x="{WIDTH - RIGHT + 30}" '
        f'y="{TOP + 18 * i + 11}" font-size="12">{escape(name)}</text>'
        for i, name in enumerate(names)
    ]


def _svg(title: str, parts: list[str]) -> str:
    heading = f'<text x="{LEFT}" y="18" font-size="13" font-weight="bold">{escape(title)}</text>'
    return (
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{heading}{''.join(parts)}</svg>"
    )


def bar_chart(title: str, categories: Sequence[str], series: dict[str, Sequence[float]]) -> str:
    """Grouped bars: one group per category, one bar per series."""
    values = [v for column in series.values() for v in column]
    low, high = _scale(values)
    parts = _axes(low, high, categories, 1)
    group = (WIDTH - LEFT - RIGHT) / max(len(categories), 1)
    bar = group * 0.8 / max(len(series), 1)
    for s, (name, column) in enumerate(series.items()):
        for i, value in enumerate(column):
            top, bottom = _y(max(value, 0), low, high), _y(min(value, 0), low, high)
            parts.append(
                f'<rect x="{LEFT + group * i + group * 0.1 + bar * s:.1f}" y="{top:.1f}" '
                f'width="{bar:.1f}" height="{max(bottom - top, 0.5):.1f}" '
                f'fill="{PALETTE[s % len(PALETTE)]}"><title>{escape(name)} '
                f"{escape(categories[i])}: {value:,.2f}</title></rect>"
            )
    return _svg(title, parts + _legend(list(series)))


def line_chart(title: str, labels: Sequence[str], series: dict[str, Sequence[float]]) -> str:
    """One line per series over the labels (dates)."""
    values = [v for column in series.values() for v in column]
    low, high = _scale(values)
    parts = _axes(low, high, labels, max(len(labels) // 8, 1))
    span = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    for s, (_name, column) in enumerate(series.items()):
        points = " ".join(
            f"{LEFT + span * (i + 0.5):.1f},{_y(v, low, high):.1f}" for i, v in enumerate(column)
        )
        parts.append(
            f'<polyline points="{points}" fill="none" stroke-width="2" '
            f'stroke="{PALETTE[s % len(PALETTE)]}"/>'
        )
    return _svg(title, parts + _legend(list(series)))
