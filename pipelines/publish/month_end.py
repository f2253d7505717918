"""The month-end page of each closed month (月结报告): reports/month_end/<YYYY-MM>.html.

What finance reported when it closed the month, from the published marts: revenue, cost
of sales, gross and contribution margin, points liability at the month's end and the
reconciliation breaks, by brand; then every adjustment late data has caused since the
close (period_adjustments). Written at each close and after each publication (an
adjustment may have arrived), for every month closed now.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import duckdb

from pipelines.periods import PeriodStatus, month_window, published_months
from pipelines.publish.metrics import Balances, PublishedMetrics, margin_by_brand
from pipelines.publish.report import STYLE, cell, html_table, write_atomically
from pipelines.settings import Settings, duckdb_config

FOLDER = "month_end"


def write_month_end_reports(settings: Settings, period: str | None = None) -> list[Path]:
    """The page of each month closed now (or of ``period`` only, when it is closed), from
    the published file; returns their paths."""
    closed = [
        m
        for m in published_months(settings.build_db)
        if m.status == "closed" and period in (None, m.period)
    ]
    if not closed:
        return []
    metrics = PublishedMetrics()
    with duckdb.connect(str(settings.marts_db), read_only=True, config=duckdb_config()) as con:
        return [
            write_atomically(settings.reports / FOLDER / f"{m.period}.html", _page(con, metrics, m))
            for m in closed
        ]


def _page(con: duckdb.DuckDBPyConnection, metrics: PublishedMetrics, month: PeriodStatus) -> str:
    window = month_window(month.period)
    margin = margin_by_brand(con, metrics, window.start, window.end)
    liability = Balances.until(con, metrics, window.end).at(window.end)
    sections = [
        ("Margin by brand (毛利)", _margin(margin, month.period)),
        ("Points liability at month end (期末积分负债)", _points(liability, month.period)),
        ("Reconciliation breaks (对账差异)", _breaks(con, window.start, window.end, month.period)),
        ("Adjustments since the close (月结后调整)", _adjustments(con, month.period)),
    ]
    body = "".join(f"<h2>{escape(title)}</h2>{html}" for title, html in sections)
    closed = f"{month.at:%Y-%m-%d %H:%M %Z}" if month.at else ""
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>月结报告 {month.period}</title><style>{STYLE}</style></head><body>"
        f"<h1>月结报告 Month-end report — {month.period}</h1>"
        f'<p class="note">Closed by {escape(month.by or "")} at {closed}'
        f"{': ' + escape(month.reason) if month.reason else ''}. The figures are the month "
        "as closed; late data since is listed at the end and carried into the first open "
        f"month.</p>{body}</body></html>"
    )


def _margin(rows: list[tuple], period: str) -> str:
    """``rows``: (brand, *MARGIN_METRICS) as booked in the month."""
    names = ("revenue", "cogs", "gross_margin", "allocated_marketing", "contribution_margin")
    return html_table(
        "month_margin",
        ["brand", "revenue", "COGS", "gross margin", "allocated marketing", "contribution"],
        [
            [f"<td>{escape(brand or '')}</td>"]
            + [
                cell(f"month:{period}:{brand}:{name}", value)
                for name, value in zip(names, values, strict=True)
            ]
            for brand, *values in rows
        ],
        f"No sales in {period}.",
    )


def _points(rows: list[tuple], period: str) -> str:
    """``rows``: (brand, points outstanding, liability) at the month's end."""
    return html_table(
        "month_points",
        ["brand", "points outstanding", "liability (CNY)"],
        [
            [
                f"<td>{escape(brand)}</td>",
                cell(f"month:{period}:{brand}:points_outstanding", points),
                cell(f"month:{period}:{brand}:liability", value),
            ]
            for brand, points, value in rows
        ],
        "No points issued yet.",
    )


def _breaks(con: duckdb.DuckDBPyConnection, first, last, period: str) -> str:
    rows = con.execute(
        """select brand_code, count(*) filter (where status = 'BREAK'),
               sum(abs(difference)) filter (where status = 'BREAK')
           from recon_sales_ledger
           where business_date between ? and ? and not is_adjustment
           group by 1 order by 1""",
        [first, last],
    ).fetchall()
    return html_table(
        "month_breaks",
        ["brand", "brand-day measures in break", "absolute difference"],
        [
            [
                f"<td>{escape(brand or '')}</td>",
                cell(f"month:{period}:{brand}:breaks", count),
                cell(f"month:{period}:{brand}:break_amount", amount),
            ]
            for brand, count, amount in rows
        ],
        f"Nothing to reconcile in {period}.",
    )


def _adjustments(con: duckdb.DuckDBPyConnection, period: str) -> str:
    rows = con.execute(
        """select mart, brand_code, item, measure, closed_amount, current_amount,
               adjustment_amount, carried_into_period, adjustment_files
           from period_adjustments where adjusts_period = ? order by 1, 2, 3, 4""",
        [period],
    ).fetchall()
    if not rows:
        return '<p class="note">No late data since the close.</p>'
    files = sorted({name for *_, names in rows for name in (names or "").split(", ") if name})
    note = f'<p class="note">Delivered after the close: {escape(", ".join(files))}.</p>'
    return note + html_table(
        "month_adjustments",
        ["mart", "brand", "item", "measure", "as closed", "now", "adjustment", "carried into"],
        [
            [
                f"<td>{escape(mart)}</td>",
                f"<td>{escape(brand or '')}</td>",
                f"<td>{escape(item or '')}</td>",
                f"<td>{escape(measure)}</td>",
                cell(f"month:{period}:{mart}:{brand}:{item}:{measure}:closed", closed),
                cell(f"month:{period}:{mart}:{brand}:{item}:{measure}:now", now),
                cell(f"month:{period}:{mart}:{brand}:{item}:{measure}", amount),
                f"<td>{escape(into or 'listed only')}</td>",
            ]
            for mart, brand, item, measure, closed, now, amount, into, _ in rows
        ],
        "",  # unreachable: no rows returns the note above
    )
