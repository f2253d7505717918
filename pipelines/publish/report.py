"""The daily business-finance report (业财日报): reports/daily/<date>.html.

Static HTML made from the published marts after each publication: margin and contribution
margin by brand over the last 30 days, reconciliation by brand and measure, compliance
counts by reason, points liability and inter-brand settlement, marketing budget vs actual.
Every figure also stands in a table cell with data-key and data-value attributes (the
exact decimal), so a reader can copy it and a test can compare it with the marts.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from html import escape
from pathlib import Path

import duckdb

from pipelines.crash_points import crash_point
from pipelines.publish.charts import bar_chart, line_chart
from pipelines.publish.metrics import (
    MARGIN_METRICS,
    Balances,
    PublishedMetrics,
    margin_by_day_and_brand,
)
from pipelines.settings import duckdb_config

TREND_DAYS = 30
STYLE = """
body { font-family: "Noto Sans CJK SC", "PingFang SC", Arial, sans-serif; margin: 24px;
       color: #222; max-width: 980px; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 32px; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.MATCHED { background: #e6f4ea; } .WITHIN_TOLERANCE { background: #fff8e1; }
.BREAK { background: #fdecea; } .note { color: #666; font-size: 12px; }
"""


@dataclass(frozen=True)
class _Figures:
    """The metrics the daily reports show, read once for all their days."""

    margin: dict[tuple[date, str], tuple[Decimal, ...]]
    balances: Balances


@dataclass(frozen=True)
class Section:
    title: str
    html: str


def cell(key: str, value) -> str:
    if value is None:
        return f'<td data-key="{escape(key)}" data-value="">–</td>'
    shown = f"{value:,.2f}" if isinstance(value, Decimal | float) else f"{value:,}"
    return f'<td data-key="{escape(key)}" data-value="{value}">{shown}</td>'


def _flag(key: str, value: bool) -> str:
    return f'<td data-key="{escape(key)}" data-value="{value}">{"yes" if value else "no"}</td>'


def html_table(table_id: str, header: list[str], rows: list[list[str]], empty: str) -> str:
    """The rows as a table, or the sentence ``empty`` says when there are none (a bare
    header row reads as a fault)."""
    if not rows:
        return f'<p class="note empty" id="{table_id}">{escape(empty)}</p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(f"<tr>{''.join(row)}</tr>" for row in rows)
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _margin(margin: dict[tuple[date, str], tuple[Decimal, ...]], day: date) -> Section:
    """``margin``: MARGIN_METRICS by day and brand, over the trend's days at least."""
    start = day - timedelta(days=TREND_DAYS - 1)
    shown = {key: values for key, values in margin.items() if start <= key[0] <= day}
    brands = sorted({brand for _, brand in shown})
    dates = sorted({d for d, _ in shown})
    labels = [d.strftime("%m-%d") for d in dates]
    zero = (Decimal(0),) * len(MARGIN_METRICS)

    def series(metric: str) -> dict[str, list[float]]:
        at = MARGIN_METRICS.index(metric)
        return {b: [float(shown.get((d, b), zero)[at]) for d in dates] for b in brands}

    gross = line_chart("Gross margin by brand (毛利)", labels, series("gross_margin"))
    contribution = line_chart(
        "Contribution margin by brand (贡献毛利)", labels, series("contribution_margin")
    )
    columns = {
        "recognized_revenue": "recognised revenue",
        "gross_margin": "gross margin",
        "allocated_marketing": "allocated marketing",
        "contribution_margin": "contribution margin",
    }
    rows = [
        [f"<td>{escape(brand)}</td>"]
        + [cell(f"margin:{brand}:{name}", values[MARGIN_METRICS.index(name)]) for name in columns]
        for (d, brand), values in sorted(shown.items())
        if d == day
    ]
    table = html_table("margin", ["brand", *columns.values()], rows, f"No sales on {day}.")
    return Section("Margin and contribution margin (毛利与贡献毛利)", gross + contribution + table)


def _reconciliation(con: duckdb.DuckDBPyConnection, day: date) -> Section:
    rows = con.execute(
        """select brand_code, measure, operational_amount, ledger_amount, difference, status
           from recon_sales_ledger where business_date = ? and not is_adjustment
           order by 1, 2""",
        [day],
    ).fetchall()
    body = [
        [
            f"<td>{escape(brand)}</td>",
            f"<td>{escape(measure)}</td>",
            cell(f"recon:{brand}:{measure}:operational", operational),
            cell(f"recon:{brand}:{measure}:ledger", ledger),
            cell(f"recon:{brand}:{measure}:difference", difference),
            f'<td class="{status}" data-key="recon:{brand}:{measure}:status" '
            f'data-value="{status}">{status}</td>',
        ]
        for brand, measure, operational, ledger, difference, status in rows
    ]
    statuses = ("MATCHED", "WITHIN_TOLERANCE", "BREAK")
    brands = sorted({r[0] for r in rows})
    chart = bar_chart(
        "Reconciliation status by brand (业财对账)",
        brands,
        {s: [sum(1 for r in rows if r[0] == b and r[5] == s) for b in brands] for s in statuses},
    )
    table = html_table(
        "reconciliation",
        ["brand", "measure", "operations", "ledger", "difference", "status"],
        body,
        f"Nothing to reconcile on {day}.",
    )
    return Section("Reconciliation (业财对账)", chart + table)


def _compliance(con: duckdb.DuckDBPyConnection, day: date) -> Section:
    start = day - timedelta(days=TREND_DAYS - 1)
    counts = con.execute(
        """select 'rx' as mart, reason, count(*) from compliance_rx_violations
           where business_date between ? and ? group by 1, 2
           union all
           select 'trace', issue, count(*) from compliance_traceability
           where business_date between ? and ? group by 1, 2
           order by 1, 2""",
        [start, day, start, day],
    ).fetchall()
    labels = [reason for _, reason, _ in counts]
    chart = (
        bar_chart(
            f"Compliance issues, last {TREND_DAYS} days",
            labels,
            {"lines": [int(n) for _, _, n in counts]},
        )
        if counts
        else ""
    )
    table = html_table(
        "compliance",
        ["reason", "lines"],
        [
            [f"<td>{escape(reason)}</td>", cell(f"compliance:{mart}:{reason}", n)]
            for mart, reason, n in counts
        ],
        "No prescription-drug or traceability issue in these days.",
    )
    note = f'<p class="note">{start} to {day}: prescription-drug and traceability issues.</p>'
    return Section("Compliance (处方药与一物一码)", note + chart + table)


def _points(con: duckdb.DuckDBPyConnection, day: date, liability: list[tuple]) -> Section:
    """``liability``: (brand, points outstanding, liability) at the end of ``day``."""
    period = day.strftime("%Y-%m")
    settlement = con.execute(
        """select earned_brand_code, redeemed_brand_code, points, settlement_value
           from points_interbrand_settlement where period = ? and is_interbrand
           order by settlement_value desc, 1, 2""",
        [period],
    ).fetchall()
    chart = (
        bar_chart(
            "Points liability by brand (积分负债)",
            [b for b, _, _ in liability],
            {"liability (CNY)": [float(v) for _, _, v in liability]},
        )
        if liability
        else ""
    )
    liability_table = html_table(
        "points_liability",
        ["brand", "points outstanding", "liability (CNY)"],
        [
            [
                f"<td>{escape(b)}</td>",
                cell(f"points:{b}:outstanding", p),
                cell(f"points:{b}:liability", v),
            ]
            for b, p, v in liability
        ],
        "No points issued yet.",
    )
    settlement_table = html_table(
        "settlement",
        ["earned at", "spent at", "points", "settlement (CNY)"],
        [
            [
                f"<td>{escape(e)}</td>",
                f"<td>{escape(r)}</td>",
                cell(f"settlement:{e}:{r}:points", p),
                cell(f"settlement:{e}:{r}:value", v),
            ]
            for e, r, p, v in settlement
        ],
        f"No points were spent at another brand than the one that issued them in {period}.",
    )
    return Section(
        "Loyalty points (积分通兑)",
        chart + liability_table + f"<h3>Inter-brand settlement, {period}</h3>" + settlement_table,
    )


def campaign_labels(rows: list[tuple], period: str) -> list[str]:
    """Brand and campaign name, less the month the chart's title gives (2024年1月), or the
    campaign id where two campaigns of a brand share a name: each bar tells its campaign."""
    year, month = period.split("-")
    month_prefix = f"{year}年{int(month)}月 "
    labels = [
        f"{brand} {(name or campaign).removeprefix(month_prefix)}"
        for campaign, brand, name, *_ in rows
    ]
    return [
        label if labels.count(label) == 1 else f"{brand} {campaign}"
        for label, (campaign, brand, *_) in zip(labels, rows, strict=True)
    ]


def _marketing(con: duckdb.DuckDBPyConnection, day: date) -> Section:
    period = day.strftime("%Y-%m")
    rows = con.execute(
        """select campaign_id, brand_code, campaign_name, budget_amount, actual_expense,
               attributed_revenue, roi, is_over_budget
           from marketing_budget_vs_actual where period = ? order by 1""",
        [period],
    ).fetchall()
    chart = (
        bar_chart(
            f"Marketing budget vs actual, {period} (三算合一)",
            campaign_labels(rows, period),
            {"budget": [float(r[3]) for r in rows], "actual": [float(r[4]) for r in rows]},
        )
        if rows
        else ""
    )
    table = html_table(
        "marketing",
        [
            "campaign",
            "name",
            "brand",
            "budget",
            "actual expense",
            "attributed revenue",
            "ROI",
            "over budget",
        ],
        [
            [
                f"<td>{escape(c)}</td>",
                f"<td>{escape(name or '')}</td>",
                f"<td>{escape(b)}</td>",
                cell(f"marketing:{c}:budget", bud),
                cell(f"marketing:{c}:actual", act),
                cell(f"marketing:{c}:revenue", rev),
                cell(f"marketing:{c}:roi", roi),
                _flag(f"marketing:{c}:over", over),
            ]
            for c, b, name, bud, act, rev, roi, over in rows
        ],
        f"No campaign runs in {period}.",
    )
    return Section("Marketing (营销费用)", chart + table)


def _adjustments(con: duckdb.DuckDBPyConnection, day: date) -> Section:
    """Late data for closed months carried into this day (the first of an open month)."""
    if day.day != 1:
        return Section("", "")
    rows = con.execute(
        """select adjusts_period, mart, brand_code, item, measure, closed_amount,
               adjustment_amount, adjustment_files
           from period_adjustments where carried_into_period = ?
           order by 1, 2, 3, 4, 5""",
        [day.strftime("%Y-%m")],
    ).fetchall()
    if not rows:
        return Section("", "")
    table = html_table(
        "adjustments",
        ["closed month", "mart", "brand", "item", "measure", "as closed", "adjustment"],
        [
            [
                f"<td>{escape(period)}</td>",
                f"<td>{escape(mart)}</td>",
                f"<td>{escape(brand or '')}</td>",
                f"<td>{escape(item or '')}</td>",
                f"<td>{escape(measure)}</td>",
                cell(f"adjustment:{period}:{mart}:{brand}:{item}:{measure}:closed", closed),
                cell(f"adjustment:{period}:{mart}:{brand}:{item}:{measure}", amount),
            ]
            for period, mart, brand, item, measure, closed, amount, _ in rows
        ],
        "",  # the section is left out when there is nothing
    )
    files = sorted({name for *_, names in rows for name in (names or "").split(", ") if name})
    note = (
        '<p class="note">Late data for closed months, carried into this day as adjustment '
        "rows (is_adjustment) of fct_margin_daily, recon_sales_ledger and points_liability; "
        "the closed months keep their figures. Figures above exclude them. From: "
        f"{escape(', '.join(files))}.</p>"
    )
    return Section("Adjustments for closed months (月结后调整)", note + table)


# A run writes the reports of its window's last month: what someone opens the morning after.
# A backfill of years would otherwise spend minutes on pages nobody reads; any other date is
# written on demand (`yecai report`).
REPORT_DAYS_PER_RUN = 31


def days_to_report(days: list[date]) -> list[date]:
    """The dates of a run's window whose daily report the run writes."""
    return sorted(days)[-REPORT_DAYS_PER_RUN:]


def write_daily_reports(
    marts_db: Path, reports: Path, days: list[date], gate_summary: str = ""
) -> list[Path]:
    """Render the report of each day from the published file; returns their paths. Days
    render on a thread per core (DuckDB answers their queries without holding Python)."""
    published = f"{datetime.now().astimezone():%Y-%m-%d %H:%M %Z}"

    def render(con: duckdb.DuckDBPyConnection, day: date, figures: _Figures) -> Path:
        sections = [
            _adjustments(con, day),
            _margin(figures.margin, day),
            _reconciliation(con, day),
            _compliance(con, day),
            _points(con, day, figures.balances.at(day)),
            _marketing(con, day),
        ]
        body = "".join(f"<h2>{escape(s.title)}</h2>{s.html}" for s in sections if s.title)
        html = (
            '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
            f"<title>业财日报 {day}</title><style>{STYLE}</style></head><body>"
            f"<h1>业财日报 Business-finance daily report — {day}</h1>"
            f'<p class="note">From {escape(marts_db.name)}, published {published}. '
            f"{escape(gate_summary)}</p>{body}</body></html>"
        )
        path = write_atomically(reports / "daily" / f"{day.isoformat()}.html", html)
        crash_point("report.written")
        return path

    if not days:
        return []
    metrics = PublishedMetrics()
    with duckdb.connect(str(marts_db), read_only=True, config=duckdb_config()) as con:
        # The headline figures of every day at once, as the semantic layer defines them.
        first, last = min(days), max(days)
        figures = _Figures(
            margin_by_day_and_brand(con, metrics, first - timedelta(TREND_DAYS - 1), last),
            Balances.until(con, metrics, last),
        )
        cursors = threading.local()

        def render_day(day: date) -> Path:
            if not hasattr(cursors, "con"):
                cursors.con = con.cursor()
            return render(cursors.con, day, figures)

        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            return list(pool.map(render_day, days))


def write_atomically(target: Path, text: str) -> Path:
    """A reader opening the report never sees half of it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".html.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(target)
    return target
