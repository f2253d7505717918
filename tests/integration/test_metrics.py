"""The headline metrics, defined once in dbt's semantic layer: `mf query` (as the README
runs it), `yecai metrics` and the daily report all give the marts' figures."""

import csv
import io
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pipelines.settings import REPO_ROOT
from tests.conftest import LAST_DAY
from tests.e2e.test_cli import yecai, yecai_env
from tests.e2e.test_daily_report import Figures

pytestmark = pytest.mark.slow

README_HOME = '"$PWD/.yecai"'
# Nothing here may need the network: MetricFlow's check for a newer version of itself
# then fails at once, as it does offline.
NO_NETWORK = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
METRICS = "recognized_revenue,gross_margin,gross_margin_pct,contribution_margin,points_liability"
BOOKED = "{{ Dimension('margin_row__is_adjustment') }} = false"


def readme_mf_block() -> str:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("**MetricFlow's own CLI, `mf query`**", 1)[1]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


def _number(text: str) -> Decimal | None:
    return Decimal(text) if text != "" else None


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def marts_by_month_and_brand(marts_db: Path) -> dict[tuple[str, str], tuple]:
    """(month, Chinese brand name) → revenue, gross margin, rate, contribution margin and the
    points liability at each brand's last day of the month, straight from the marts."""
    with duckdb.connect(str(marts_db), read_only=True) as con:
        margin = con.sql(
            """select strftime(business_date, '%Y-%m-01'), b.brand_name_zh,
                   sum(recognized_revenue), sum(gross_margin),
                   sum(gross_margin) / sum(recognized_revenue), sum(contribution_margin)
               from fct_margin_daily join dim_brands as b using (brand_code)
               group by all"""
        ).fetchall()
        liability = con.sql(
            """select strftime(business_date, '%Y-%m-01'), b.brand_name_zh, liability_value
               from points_liability join dim_brands as b using (brand_code)
               where not is_adjustment
               qualify business_date = max(business_date) over (
                   partition by brand_code, date_trunc('month', business_date))"""
        ).fetchall()
    found = {(m, b): (*values, None) for m, b, *values in margin}
    for month, brand, value in liability:
        found[(month, brand)] = (*found.get((month, brand), (None,) * 4)[:4], value)
    return found


def _close(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return abs(Decimal(a) - Decimal(b)) <= Decimal("1e-9") * max(1, abs(Decimal(b)))


def test_mf_query_as_the_readme_runs_it_gives_the_marts_figures(pipeline_home, tmp_path):
    """The README's commands: `mf validate-configs` checks every definition against the
    warehouse, and `mf query` gives, per month and brand name, what the marts sum to."""
    home = tmp_path / "home"
    shutil.copytree(pipeline_home.home, home)
    block = readme_mf_block()
    assert README_HOME in block and "mf query" in block and "mf validate-configs" in block
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block.replace(README_HOME, f'"{home}"')],
        cwd=REPO_ROOT,
        env={**yecai_env(), **NO_NETWORK},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "ERRORS: 0" in done.stdout
    rows = _csv_rows((home / "metrics.csv").read_text(encoding="utf-8"))
    shown = {
        (row["metric_time__month"][:10], row["brand__brand_name_zh"]): (
            _number(row["recognized_revenue"]),
            _number(row["gross_margin"]),
            _number(row["gross_margin_pct"]),
            _number(row["contribution_margin"]),
            _number(row["points_liability"]),
        )
        for row in rows
    }
    expected = marts_by_month_and_brand(home / "warehouse" / "marts.duckdb")
    assert shown.keys() == expected.keys()
    differ = {
        key: (shown[key], value)
        for key, value in expected.items()
        if not all(_close(a, b) for a, b in zip(shown[key], value, strict=True))
    }
    assert not differ
    # The same definitions over the published file: `yecai metrics` answers the same.
    published = yecai(
        home,
        "metrics",
        METRICS,
        "--group-by",
        "metric_time__month,brand__brand_name_zh",
        "--csv",
    )
    assert published.returncode == 0, published.stderr
    assert _csv_rows(published.stdout)[0]["metric_time__month"] == min(expected)[0]

    def month_day(rows: list[dict[str, str]]) -> list[tuple]:
        """Each row as (month, brand name, *numbers): mf writes 127236.9 where DuckDB's CSV
        has 127236.90, and timestamps where `yecai metrics` shows dates."""
        return sorted(
            (
                r["metric_time__month"][:10],
                r["brand__brand_name_zh"],
                *(_number(r[name]) for name in METRICS.split(",")),
            )
            for r in rows
        )

    assert month_day(_csv_rows(published.stdout)) == month_day(rows)


def _metrics_csv(home: Path, metrics: str, *options: str) -> list[dict[str, str]]:
    done = yecai(home, "metrics", metrics, "--group-by", "brand", "--csv", *options)
    assert done.returncode == 0, done.stderr
    return _csv_rows(done.stdout)


def test_the_daily_report_shows_what_the_metrics_give(pipeline_home):
    page = Figures()
    page.feed((pipeline_home.reports / "daily" / f"{LAST_DAY}.html").read_text("utf-8"))
    shown = page.values
    day = str(LAST_DAY)
    margin = _metrics_csv(
        pipeline_home.home,
        "recognized_revenue,gross_margin,allocated_marketing,contribution_margin",
        *("--start", day, "--end", day, "--where", BOOKED),
    )
    balances = _metrics_csv(pipeline_home.home, "points_outstanding,points_liability", "--end", day)
    assert margin and balances
    expected = {}
    for row in margin:
        for name in (
            "recognized_revenue",
            "gross_margin",
            "allocated_marketing",
            "contribution_margin",
        ):
            expected[f"margin:{row['brand']}:{name}"] = row[name]
    for row in balances:
        expected[f"points:{row['brand']}:outstanding"] = row["points_outstanding"]
        expected[f"points:{row['brand']}:liability"] = row["points_liability"]
    on_page = {key: shown.get(key) for key in expected}
    assert {k: Decimal(v) for k, v in on_page.items()} == {
        k: Decimal(v) for k, v in expected.items()
    }
    assert {k for k in shown if k.startswith(("margin:", "points:"))} == expected.keys()


def test_a_wrong_name_gets_the_names_metricflow_knows(pipeline_home):
    done = yecai(pipeline_home.home, "metrics", "gross_marg", "--group-by", "brand")
    assert done.returncode == 2
    assert "gross_margin_pct" in done.stderr and "does not exactly match" in done.stderr
    listed = yecai(pipeline_home.home, "metrics")
    assert listed.returncode == 0
    for name in ("recognized_revenue", "gross_margin_pct", "contribution_margin"):
        assert name in listed.stdout
    assert "毛利率" in listed.stdout
