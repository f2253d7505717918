"""The daily business-finance report, rendered by Debian's chromium headless: it shows
something, and every figure on the page is the marts' figure."""

import shutil
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from pipelines.publish.report import REPORT_DAYS_PER_RUN, days_to_report
from tests.conftest import GENERATED, LAST_DAY
from tests.e2e.browser import ARTIFACTS, chromium, is_not_blank
from tests.e2e.test_cli import yecai

pytestmark = [pytest.mark.slow, pytest.mark.browser]


class Figures(HTMLParser):
    """data-key → data-value of every figure cell on the page."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "data-key" in attributes:
            self.values[attributes["data-key"]] = attributes.get("data-value") or ""


@pytest.fixture(scope="module")
def report(pipeline_home) -> Path:
    return pipeline_home.reports / "daily" / f"{LAST_DAY}.html"


def test_a_run_writes_the_report_of_every_day_it_published(pipeline_home):
    days = [GENERATED.start + timedelta(days=i) for i in range(GENERATED.days)]
    written = sorted(p.name for p in (pipeline_home.reports / "daily").iterdir())
    assert written == [f"{day}.html" for day in days]


def test_a_long_backfill_writes_its_last_month_and_the_rest_on_demand(pipeline_home, tmp_path):
    years = [GENERATED.start + timedelta(days=i) for i in range(2_400)]
    assert days_to_report(years) == years[-REPORT_DAYS_PER_RUN:]
    assert days_to_report(years[:12]) == years[:12]
    # An earlier date someone wants to read: `yecai report` writes it from the published file.
    home = tmp_path / "home"
    shutil.copytree(pipeline_home.home, home)
    daily = home / "reports" / "daily"
    for page in daily.iterdir():
        page.unlink()
    second = GENERATED.start + timedelta(days=1)
    done = yecai(home, "report", "--start", str(GENERATED.start), "--end", str(second))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in daily.iterdir()) == [f"{GENERATED.start}.html", f"{second}.html"]
    assert "业财日报" in (daily / f"{second}.html").read_text(encoding="utf-8")
    nothing = yecai(tmp_path / "empty", "report", "--start", str(second))
    assert nothing.returncode == 2 and "nothing in" in nothing.stderr


def test_the_report_renders_in_a_real_browser(report, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "daily-report.png"
    chromium(tmp_path, "--window-size=1100,3000", f"--screenshot={shot}", report.as_uri())
    assert is_not_blank(shot)


def test_every_figure_on_the_page_is_the_marts_figure(report, pipeline_home, tmp_path):
    dom = chromium(tmp_path, "--dump-dom", report.as_uri()).stdout
    page = Figures()
    page.feed(dom)
    shown = page.values
    day = LAST_DAY
    with duckdb.connect(str(pipeline_home.marts_db), read_only=True) as con:

        def rows(sql, *params):
            return con.execute(sql, list(params)).fetchall()

        expected: dict[str, object] = {}
        for brand, revenue, margin, marketing, contribution in rows(
            """select brand_code, sum(recognized_revenue), sum(gross_margin),
                   sum(allocated_marketing), sum(contribution_margin)
               from fct_margin_daily where business_date = ? group by 1""",
            day,
        ):
            expected |= {
                f"margin:{brand}:recognized_revenue": revenue,
                f"margin:{brand}:gross_margin": margin,
                f"margin:{brand}:allocated_marketing": marketing,
                f"margin:{brand}:contribution_margin": contribution,
            }
        for brand, measure, operational, ledger, difference, status in rows(
            """select brand_code, measure, operational_amount, ledger_amount, difference, status
               from recon_sales_ledger where business_date = ?""",
            day,
        ):
            expected |= {
                f"recon:{brand}:{measure}:operational": operational,
                f"recon:{brand}:{measure}:ledger": ledger,
                f"recon:{brand}:{measure}:difference": difference,
                f"recon:{brand}:{measure}:status": status,
            }
        for reason, count in rows(
            """select reason, count(*) from compliance_rx_violations
               where business_date between ? - interval 29 day and ? group by 1""",
            day,
            day,
        ):
            expected[f"compliance:rx:{reason}"] = count
        for issue, count in rows(
            """select issue, count(*) from compliance_traceability
               where business_date between ? - interval 29 day and ? group by 1""",
            day,
            day,
        ):
            expected[f"compliance:trace:{issue}"] = count
        for brand, outstanding, value in rows(
            """select brand_code, points_outstanding, liability_value from points_liability
               qualify row_number() over (partition by brand_code order by business_date desc) = 1
            """
        ):
            expected[f"points:{brand}:outstanding"] = outstanding
            expected[f"points:{brand}:liability"] = value
        for earned, redeemed, points, value in rows(
            """select earned_brand_code, redeemed_brand_code, points, settlement_value
               from points_interbrand_settlement where period = ? and is_interbrand""",
            day.strftime("%Y-%m"),
        ):
            expected[f"settlement:{earned}:{redeemed}:points"] = points
            expected[f"settlement:{earned}:{redeemed}:value"] = value
        for campaign, budget, actual, over in rows(
            """select campaign_id, budget_amount, actual_expense, is_over_budget
               from marketing_budget_vs_actual where period = ?""",
            day.strftime("%Y-%m"),
        ):
            expected[f"marketing:{campaign}:budget"] = budget
            expected[f"marketing:{campaign}:actual"] = actual
            expected[f"marketing:{campaign}:over"] = over
    assert len(expected) > 40 and any(k.startswith("settlement:") for k in expected)
    for key, value in expected.items():
        assert key in shown, key
        if isinstance(value, Decimal):
            assert Decimal(shown[key]) == value, key
        else:
            assert shown[key] == str(value), key
