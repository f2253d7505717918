"""Small inline SVG charts for the static daily report: no script, nothing to download.

The margins grow to fit what is written in them (tick labels, slanted category labels, the
legend), the value axis runs between round ticks (1, 2, 2.5 or 5 × 10ⁿ; whole numbers for
counts), and every point of a line is marked, so a series of one day still shows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
WIDTH = 720
PLOT_HEIGHT = 194  # the plotting area; the chart's height adds the margins
TOP, PAD = 36, 8
FONT = 11  # px, axis labels
LEGEND_FONT = 12
SLANT = 35  # degrees, category labels too wide to stand side by side
TICKS = 5
NICE_STEPS = (1, 2, 2.5, 5, 10)


def text_width(text: str, size: float = FONT) -> float:
    """A generous estimate of rendered width: CJK glyphs are square, Latin ones ~0.62 em."""
    return sum(size if ord(ch) > 0x2E80 else size * 0.62 for ch in text)


def nice_ticks(low: float, high: float, integer: bool = False) -> list[float]:
    """Round tick values covering low..high, about TICKS of them; whole steps for counts."""
    if high <= low:
        high = low + 1
    raw = (high - low) / (TICKS - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(
        (
            m * magnitude
            for m in NICE_STEPS
            if m * magnitude >= raw and not (integer and m * magnitude % 1)
        ),
        10 * magnitude,
    )
    if integer:
        step = max(step, 1)
    first, last = math.floor(low / step), math.ceil(high / step)
    return [i * step for i in range(first, last + 1)]


def tick_label(value: float, step: float) -> str:
    decimals = 0 if float(step).is_integer() else len(f"{step:g}".split(".")[1])
    return f"{value:,.{decimals}f}"


def _is_count(values: Sequence[float]) -> bool:
    return all(isinstance(v, int) for v in values)


@dataclass(frozen=True)
class _Frame:
    """The plotting area inside the SVG and the value range it maps."""

    left: float
    right: float  # x of the plot's right edge
    bottom: float  # y of the plot's bottom edge
    height: float  # of the whole SVG
    ticks: list[float]
    slanted: bool  # category labels too wide to stand side by side

    def y(self, value: float) -> float:
        low, high = self.ticks[0], self.ticks[-1]
        return TOP + (self.bottom - TOP) * (1 - (value - low) / (high - low))


def _frame(values: Sequence[float], labels: Sequence[str], legend: Sequence[str]) -> _Frame:
    ticks = nice_ticks(min([0, *values]), max([0, *values]), integer=_is_count(values))
    step = ticks[1] - ticks[0]
    tick_room = max(text_width(tick_label(t, step)) for t in ticks) + 2 * PAD
    legend_room = max((text_width(n, LEGEND_FONT) for n in legend), default=0) + 40
    widest = max((text_width(label) for label in labels), default=0)
    span = (WIDTH - tick_room - legend_room) / max(len(labels), 1)
    slanted = widest + PAD > span
    if not slanted:
        below, overhang = FONT + 2 * PAD, 0.0
    else:  # anchored at their end under the tick
        angle = math.radians(SLANT)
        below = widest * math.sin(angle) + FONT + 2 * PAD
        overhang = widest * math.cos(angle) - span / 2
    left = max(tick_room, overhang + PAD)
    bottom = TOP + PLOT_HEIGHT
    return _Frame(left, WIDTH - legend_room, bottom, bottom + below, ticks, slanted)


def _axes(frame: _Frame, labels: Sequence[str], every: int) -> list[str]:
    step = frame.ticks[1] - frame.ticks[0]
    parts = []
    for value in frame.ticks:
        y = frame.y(value)
        parts.append(
            f'<text class="tick" x="{frame.left - PAD}" y="{y + 4:.1f}" text-anchor="end" '
            f'font-size="{FONT}">{tick_label(value, step)}</text>'
            f'<line x1="{frame.left}" y1="{y:.1f}" x2="{frame.right}" y2="{y:.1f}" '
            f'stroke="{"#888" if value == 0 else "#eee"}"/>'
        )
    span = (frame.right - frame.left) / max(len(labels), 1)
    for i, label in enumerate(labels):
        if i % every == 0:
            x, y = frame.left + span * (i + 0.5), frame.bottom + FONT + PAD
            turn = f' transform="rotate(-{SLANT} {x:.1f} {y})"' if frame.slanted else ""
            anchor = "end" if frame.slanted else "middle"
            parts.append(
                f'<text class="label" x="{x:.1f}" y="{y}" text-anchor="{anchor}" '
                f'font-size="{FONT}"{turn}>{escape(label)}</text>'
            )
    return parts


def _legend(frame: _Frame, names: Sequence[str]) -> list[str]:
    x = frame.right + 12
    return [
        f'<rect x="{x}" y="{TOP + 18 * i}" width="12" height="12" '
        f'fill="{PALETTE[i % len(PALETTE)]}"/><text class="legend" x="{x + 18}" '
        f'y="{TOP + 18 * i + 11}" font-size="{LEGEND_FONT}">{escape(name)}</text>'
        for i, name in enumerate(names)
    ]


def _svg(title: str, frame: _Frame, parts: list[str]) -> str:
    heading = (
        f'<text x="{frame.left}" y="18" font-size="13" font-weight="bold">{escape(title)}</text>'
    )
    return (
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{WIDTH}" '
        f'height="{frame.height:.0f}" viewBox="0 0 {WIDTH} {frame.height:.0f}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{heading}'
        f"{''.join(parts)}</svg>"
    )


def _shown(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"


def bar_chart(title: str, categories: Sequence[str], series: dict[str, Sequence[float]]) -> str:
    """Grouped bars: one group per category, one bar per series. Counts (int values) get
    whole-number ticks."""
    frame = _frame([v for column in series.values() for v in column], categories, list(series))
    parts = _axes(frame, categories, 1)
    group = (frame.right - frame.left) / max(len(categories), 1)
    bar = group * 0.8 / max(len(series), 1)
    for s, (name, column) in enumerate(series.items()):
        for i, value in enumerate(column):
            top, bottom = frame.y(max(value, 0)), frame.y(min(value, 0))
            parts.append(
                f'<rect class="bar" x="{frame.left + group * i + group * 0.1 + bar * s:.1f}" '
                f'y="{top:.1f}" width="{bar:.1f}" height="{max(bottom - top, 0.5):.1f}" '
                f'fill="{PALETTE[s % len(PALETTE)]}"><title>{escape(name)} '
                f"{escape(categories[i])}: {_shown(value)}</title></rect>"
            )
    return _svg(title, frame, parts + _legend(frame, list(series)))


def line_chart(title: str, labels: Sequence[str], series: dict[str, Sequence[float]]) -> str:
    """One line per series over the labels (dates), each point marked."""
    frame = _frame([v for column in series.values() for v in column], labels, list(series))
    parts = _axes(frame, labels, max(len(labels) // 8, 1))
    span = (frame.right - frame.left) / max(len(labels), 1)
    for s, (name, column) in enumerate(series.items()):
        colour = PALETTE[s % len(PALETTE)]
        points = [(frame.left + span * (i + 0.5), frame.y(v)) for i, v in enumerate(column)]
        parts.append(
            f'<polyline points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in points)}" '
            f'fill="none" stroke-width="2" stroke="{colour}"/>'
        )
        parts.extend(
            f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}">'
            f"<title>{escape(name)} {escape(labels[i])}: {_shown(column[i])}</title></circle>"
            for i, (x, y) in enumerate(points)
        )
    return _svg(title, frame, parts + _legend(frame, list(series)))
