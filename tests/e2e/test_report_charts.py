"""The daily report's charts in the cases that once drew badly, each rendered by chromium:
the page measures what the browser drew (a script writes every element's box into the
DOM) and the screenshot is kept in test-artifacts/report-cases/ for a person to look at."""

import json
import re
from pathlib import Path

import pytest
from PIL import Image

from pipelines.publish.charts import PALETTE, bar_chart, line_chart
from pipelines.publish.report import STYLE, campaign_labels, html_table
from tests.e2e.browser import ARTIFACTS, chromium

pytestmark = pytest.mark.browser

CASES = ARTIFACTS / "report-cases"
# Writes the box of every text and shape of each chart, and of the page's notes, as JSON.
MEASURE = """
<pre id="measured"></pre>
<script>
const box = (el) => { const r = el.getBoundingClientRect();
  return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
document.getElementById("measured").textContent = JSON.stringify({
  charts: [...document.querySelectorAll("svg.chart")].map((svg) => ({
    box: box(svg),
    texts: [...svg.querySelectorAll("text")].map((t) => ({
      cls: t.getAttribute("class"), text: t.textContent, box: box(t)})),
    points: [...svg.querySelectorAll("circle.point")].map(box),
    bars: [...svg.querySelectorAll("rect.bar")].map(box),
  })),
  headers: document.querySelectorAll("th").length,
  notes: [...document.querySelectorAll("p.note")].map((p) => ({
    text: p.textContent, box: box(p)})),
});
</script>
"""


def render(tmp_path: Path, case: str, body: str) -> dict:
    """Render ``body`` as a report page: the screenshot is kept; what the browser drew is
    returned."""
    CASES.mkdir(parents=True, exist_ok=True)
    page = CASES / f"{case}.html"
    page.write_text(
        f'<!doctype html><html><head><meta charset="utf-8"><style>{STYLE}</style></head>'
        f"<body>{body}{MEASURE}</body></html>",
        encoding="utf-8",
    )
    shot = CASES / f"{case}.png"
    chromium(tmp_path, "--window-size=900,700", f"--screenshot={shot}", page.as_uri())
    dom = chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    measured = re.search(r'<pre id="measured">(.*?)</pre>', dom, re.S).group(1)
    return json.loads(measured.replace("&quot;", '"').replace("&amp;", "&"))


def inside(inner: dict, outer: dict) -> bool:
    return (
        inner["left"] >= outer["left"] - 0.5
        and inner["right"] <= outer["right"] + 0.5
        and inner["top"] >= outer["top"] - 0.5
        and inner["bottom"] <= outer["bottom"] + 0.5
    )


def drawn_in(shot: Path, colour: str) -> int:
    """Pixels of exactly ``colour`` (#rrggbb) in the screenshot."""
    rgb = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    image = Image.open(shot).convert("RGB")
    return sum(n for n, c in image.getcolors(maxcolors=1 << 20) if c == rgb)


def tick_values(chart: dict) -> list[str]:
    return [t["text"] for t in chart["texts"] if t["cls"] == "tick"]


def test_a_series_of_one_day_is_drawn(tmp_path):
    """The first day of history: one point per brand, which a bare polyline does not draw."""
    chart = line_chart("Gross margin by brand (毛利)", ["11-22"], {"AUR": [335340.73]})
    measured = render(tmp_path, "one-point-series", chart)
    (drawn,) = measured["charts"]
    assert len(drawn["points"]) == 1 and inside(drawn["points"][0], drawn["box"])
    assert drawn_in(CASES / "one-point-series.png", PALETTE[0]) > 10


def test_slanted_labels_stay_inside_the_chart(tmp_path):
    """The compliance chart's long reasons, slanted: none cut off at the bottom or left."""
    reasons = [
        "NO_PRESCRIPTION",
        "PHARMACY_LICENSE_INVALID",
        "PRESCRIPTION_EXPIRED",
        "QUANTITY_EXCEEDED",
        "SKU_NOT_PRESCRIBED",
        "UNKNOWN_PRESCRIPTION",
        "DUPLICATE_CODE",
        "EXPIRED_BATCH",
        "MISSING_CODE",
    ]
    chart = bar_chart("Compliance issues, last 30 days", reasons, {"lines": [3] * len(reasons)})
    (drawn,) = render(tmp_path, "slanted-labels", chart)["charts"]
    labels = [t for t in drawn["texts"] if t["cls"] == "label"]
    assert [t["text"] for t in labels] == reasons
    outside = [t["text"] for t in drawn["texts"] if not inside(t["box"], drawn["box"])]
    assert outside == []


def test_each_campaign_has_its_own_bar_label(tmp_path):
    """Two campaigns of one brand in a month: named, or by id where the names are the same."""
    rows = [
        ("CMP-KDK-202611-1", "KDK", "2026年11月 双十一母婴节", 500000, 420000),
        ("CMP-KDK-202611-2", "KDK", "2026年11月 新生儿礼包", 120000, 90000),
        ("CMP-KWH-202611-1", "KWH", "2026年11月 秋冬感冒季", 300000, 310000),
        ("CMP-KWH-202611-2", "KWH", "2026年11月 秋冬感冒季", 80000, 20000),
    ]
    labels = campaign_labels(rows, "2026-11")
    assert labels == [
        "KDK 双十一母婴节",
        "KDK 新生儿礼包",
        "KWH CMP-KWH-202611-1",
        "KWH CMP-KWH-202611-2",
    ]
    chart = bar_chart(
        "Marketing budget vs actual, 2026-11 (三算合一)",
        labels,
        {"budget": [float(r[3]) for r in rows], "actual": [float(r[4]) for r in rows]},
    )
    (drawn,) = render(tmp_path, "campaign-labels", chart)["charts"]
    shown = [t["text"] for t in drawn["texts"] if t["cls"] == "label"]
    assert shown == labels and len(set(shown)) == len(shown)
    assert all(inside(t["box"], drawn["box"]) for t in drawn["texts"])


def test_an_empty_section_says_so_instead_of_a_bare_header(tmp_path):
    table = html_table(
        "settlement",
        ["earned at", "spent at", "points", "settlement (CNY)"],
        [],
        "No points were spent at another brand than the one that issued them in 2026-11.",
    )
    measured = render(tmp_path, "empty-section", f"<h3>Inter-brand settlement</h3>{table}")
    assert measured["headers"] == 0
    (note,) = measured["notes"]
    assert note["text"].startswith("No points were spent") and note["box"]["bottom"] > 0


def test_the_value_axis_has_round_ticks(tmp_path):
    """Not 47,563 / 34,374: steps of 1, 2, 2.5 or 5 × 10ⁿ from a multiple of the step."""
    chart = bar_chart(
        "Points liability by brand (积分负债)", ["AUR", "KDK"], {"CNY": [47563.0, 190253.1]}
    )
    (drawn,) = render(tmp_path, "round-ticks", chart)["charts"]
    values = [float(v.replace(",", "")) for v in tick_values(drawn)]
    step = values[1] - values[0]
    assert re.fullmatch(r"(1|2|25|5)0*", f"{step:.0f}"), values
    assert all(v % step == 0 for v in values)
    assert values[0] <= 0 and values[-1] >= 190253.1


def test_counts_have_whole_number_ticks(tmp_path):
    chart = bar_chart(
        "Reconciliation status by brand (业财对账)", ["AUR", "KWH"], {"BREAK": [1, 2]}
    )
    (drawn,) = render(tmp_path, "count-ticks", chart)["charts"]
    assert all(re.fullmatch(r"\d+", v) for v in tick_values(drawn)), tick_values(drawn)
