"""The marts on generated data: every injected defect is found, with the right label, and
nothing else; identity resolution matches the generator's truth."""

import shutil
from datetime import timedelta

import duckdb
import polars as pl
import pytest

from pipelines.generate.truth import identity_quality
from pipelines.settings import REPO_ROOT, Settings
from tests.conftest import GENERATED, LAST_DAY, run_windows

pytestmark = pytest.mark.slow

MARTS = {
    "fct_sales_margin",
    "fct_margin_daily",
    "customer_profile",
    "customer_daily_activity",
    "customer_key_merges",
    "customer_key_splits",
    "identity_review_queue",
    "recon_sales_ledger",
    "recon_breaks",
    "points_liability",
    "points_interbrand_settlement",
    "marketing_budget_vs_actual",
    "compliance_rx_violations",
    "compliance_traceability",
    "period_adjustments",
}
DIMS = {
    "dim_brands",
    "dim_channels",
    "dim_stores",
    "dim_products",
    "dim_categories",
    "dim_accounts",
    "dim_campaigns",
    "dim_calendar",
}


def query(settings: Settings, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        return con.sql(sql).pl()


def rows(settings: Settings, sql: str) -> set[tuple]:
    return set(query(settings, sql).iter_rows())


def truth(settings: Settings, family: str) -> pl.DataFrame:
    return pl.read_parquet(settings.truth / "defects.parquet").filter(pl.col("family") == family)


def test_the_published_file_holds_every_mart(pipeline_home):
    with duckdb.connect(str(pipeline_home.marts_db), read_only=True) as con:
        tables = {name for (name,) in con.execute("show tables").fetchall()}
    assert tables == MARTS | DIMS


def test_the_calendar_is_iso_and_covers_every_business_date(pipeline_home):
    calendar = query(pipeline_home, "select * from marts.dim_calendar order by date_day")
    first, last = calendar["date_day"][0], calendar["date_day"][-1]
    assert (first.month, first.day, last.month, last.day) == (1, 1, 12, 31)  # whole years
    assert len(calendar) == (last - first).days + 1  # no day missing
    for day in calendar.iter_rows(named=True):
        date_day = day["date_day"]
        iso = date_day.isocalendar()
        assert (day["iso_year"], day["iso_week"], day["iso_day_of_week"]) == tuple(iso)
        assert day["iso_week_label"] == f"{iso.year}-W{iso.week:02d}"
        assert day["fiscal_period"] == f"{date_day:%Y-%m}"
        assert day["fiscal_quarter_label"] == f"{date_day.year}-Q{(date_day.month + 2) // 3}"
        assert day["is_weekend"] == (iso.weekday >= 6)
    dates = query(pipeline_home, "select min(business_date) as first, max(business_date) as last "
                                 "from marts.fct_sales_margin")  # fmt: skip
    assert first <= dates["first"][0] and dates["last"][0] <= last


def test_the_readme_query_over_the_dims_runs_on_the_published_file(pipeline_home):
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    example = readme.split("Beside the codes", 1)[1].split("```sql", 1)[1].split("```", 1)[0]
    with duckdb.connect(str(pipeline_home.marts_db), read_only=True) as con:
        result = con.sql(example).fetchall()
    assert result and all(None not in row for row in result)


def test_analysts_get_a_chinese_name_beside_every_code(pipeline_home):
    """The margin mart joined to its dims, as an analyst would: no code is left nameless."""
    named = query(
        pipeline_home,
        """
        select b.brand_name_zh, c.channel_name_zh, s.store_name, k.category_name_zh,
               d.fiscal_quarter_label
        from marts.fct_margin_daily as m
        left join marts.dim_brands as b using (brand_code)
        left join marts.dim_channels as c using (channel_code)
        left join marts.dim_stores as s using (store_id)
        left join marts.dim_categories as k using (category)
        left join marts.dim_calendar as d on d.date_day = m.business_date
        """,
    )
    assert len(named) > 0
    assert named.null_count().sum_horizontal().item() == 0
    assert named["brand_name_zh"].str.contains(r"[\u4e00-\u9fff]").all()


def test_recon_breaks_are_the_injected_ledger_defects_and_nothing_else(pipeline_home):
    ledger = truth(pipeline_home, "LEDGER")
    assert set(ledger["defect"]) == {
        "MISSING_IN_LEDGER",
        "AMOUNT_MISMATCH",
        "WRONG_PERIOD",
        "MISSING_IN_OPERATIONS",
    }
    expected = set(ledger.select("source_doc_id", "defect").iter_rows())
    # A sales line ingestion quarantined is missing from operations but not from the books:
    # a real break, expected too (a repeated key is not: its original was loaded).
    loaded = set(
        query(pipeline_home, "select distinct order_id from marts.fct_sales_margin")["order_id"]
    )
    quarantined = truth(pipeline_home, "INGEST").filter(
        (pl.col("source") == "sales") & (pl.col("defect") != "DUPLICATE_KEY")
    )
    for order_id in quarantined["order_id"].unique():
        expected.add(
            (order_id, "AMOUNT_MISMATCH" if order_id in loaded else "MISSING_IN_OPERATIONS")
        )
    found = rows(pipeline_home, "select distinct source_doc_id, break_type from marts.recon_breaks")
    assert found == expected


def test_days_with_breaks_are_not_matched_and_the_others_are(pipeline_home):
    statuses = query(
        pipeline_home,
        """
        select business_date, brand_code, bool_or(status <> 'MATCHED') as unmatched
        from marts.recon_sales_ledger group by 1, 2""",
    )
    breaks = query(
        pipeline_home,
        """
        select distinct business_date, brand_code from marts.recon_breaks
        union select distinct posting_date, brand_code from staging.stg_ledger__journal_lines
        where source_doc_id in (select source_doc_id from marts.recon_breaks)""",
    )
    with_breaks = set(breaks.iter_rows())
    for business_date, brand, unmatched in statuses.iter_rows():
        assert unmatched == ((business_date, brand) in with_breaks), (business_date, brand)


def test_rx_violations_are_exactly_the_injected_ones(pipeline_home):
    expected = set(truth(pipeline_home, "RX").select("order_id", "line_no", "expected").iter_rows())
    assert {r for _, _, r in expected} == {
        "NO_PRESCRIPTION",
        "UNKNOWN_PRESCRIPTION",
        "SKU_NOT_PRESCRIBED",
        "PRESCRIPTION_EXPIRED",
        "QUANTITY_EXCEEDED",
        "PHARMACY_LICENSE_INVALID",
    }
    found = rows(
        pipeline_home, "select order_id, line_no, reason from marts.compliance_rx_violations"
    )
    assert found == expected


def test_traceability_issues_are_exactly_the_injected_ones(pipeline_home):
    expected = set(
        truth(pipeline_home, "TRACE").select("order_id", "line_no", "expected").iter_rows()
    )
    found = rows(
        pipeline_home, "select order_id, line_no, issue from marts.compliance_traceability"
    )
    assert found == expected


def test_over_budget_campaigns_are_exactly_the_injected_ones(pipeline_home):
    expected = set(truth(pipeline_home, "MARKETING")["campaign_id"])
    found = set(
        query(
            pipeline_home,
            "select campaign_id from marts.marketing_budget_vs_actual where is_over_budget",
        )["campaign_id"]
    )
    assert found == expected and expected


def test_identity_resolution_matches_the_truth_on_dirty_identifiers(pipeline_home):
    """The generated extracts carry the default identity noise (typos, changed phones,
    family members sharing a phone): the targets hold, and no family is merged."""
    quality = identity_quality(pipeline_home.build_db, pipeline_home.truth)
    assert quality.records > 1000
    assert quality.precision >= 0.999 and quality.recall >= 0.99, quality.line()
    assert quality.family_pairs > 0 and quality.family_merged == 0, quality.line()


@pytest.mark.long  # the same history run four ways
def test_marts_do_not_depend_on_how_history_was_run(clean_generated_home, tmp_path):
    """Uneven windows, then an earlier window run again after later days were loaded (a
    re-run), give exactly the marts one run over everything gave. On clean identifiers:
    with identity noise, whether a phone alone links a record depends on whether two
    people had shown that phone when the pair was scored, and a run over everything knows
    more than the first of several did."""
    once = Settings(home=tmp_path / "once")
    shutil.copytree(clean_generated_home.landing, once.landing)
    run_windows(once, [(GENERATED.start, LAST_DAY)])
    settings = Settings(home=tmp_path / "home")
    shutil.copytree(clean_generated_home.landing, settings.landing)
    split = GENERATED.start + timedelta(days=4)
    run_windows(
        settings,
        [
            (GENERATED.start, split),
            (split + timedelta(days=1), LAST_DAY),
            (GENERATED.start + timedelta(days=1), split),
        ],
    )
    comparisons = {
        "intermediate.int_identity__record_keys": "record_source, record_id",
        "marts.fct_sales_margin": "order_id, line_no",
        "marts.fct_margin_daily": "business_date, brand_code, channel_code, store_id, category",
        "marts.recon_breaks": "source_doc_id, measure",
        "marts.recon_sales_ledger": "business_date, brand_code, measure",
        "marts.compliance_rx_violations": "order_id, line_no, reason",
        "marts.compliance_traceability": "order_id, line_no, issue",
        "marts.points_liability": "business_date, brand_code",
        "marts.customer_profile": "customer_key",
    }
    for table, order in comparisons.items():
        sql = f"select * from {table} order by {order}"
        assert query(settings, sql).equals(query(once, sql)), table


def test_dbt_docs_are_published_with_the_business_terms(pipeline_home):
    page = (pipeline_home.reports / "dbt-docs" / "static_index.html").read_text(encoding="utf-8")
    assert "fct_margin_daily" in page and "recon_sales_ledger" in page
    assert "业财对账".encode("unicode_escape").decode() in page or "业财对账" in page
