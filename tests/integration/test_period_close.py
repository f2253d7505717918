"""Period close against truth: the generator voids sale lines of January and posts late
journals into it after the month's end (truth/late_corrections.parquet). January is
closed, the late files are delivered and a single-run range over January's late dates and
the next day is run, as a backfill from the UI runs. Closed figures must not move, the
adjustments must be the truth's, and a reopen must give what a never-closed warehouse has.
"""

import shutil
from datetime import date
from decimal import Decimal

import duckdb
import polars as pl
import pytest

from pipelines.gates.closed_periods import closed_periods_suite
from pipelines.gates.validate import validate
from pipelines.gates.window import Window
from pipelines.generate import GenerateRequest, generate
from pipelines.generate.late import TRUTH_FILE, deliver_late
from pipelines.periods import (
    PeriodRefused,
    close_period,
    closing_marts,
    figure_columns,
    published_months,
    reopen_period,
)
from pipelines.settings import Settings
from pipelines.transform.manifest import load_manifest
from tests.conftest import run_windows
from tests.e2e.test_daily_report import Figures

# Five runs of a month and more (~3.5 min): with the other whole-window runs, apart.
pytestmark = [pytest.mark.slow, pytest.mark.reliability]

JANUARY = "2024-01"
REQUEST = GenerateRequest(
    start=date(2024, 1, 1), days=34, scale=0.05, seed=11, anomalies=0.01, late_corrections=0.01
)
DELIVERY = date(2024, 2, 3)  # the generator delivers January's late data on the 3rd
BEFORE_DELIVERY = date(2024, 2, 2)
ADJUSTMENT_COLUMNS = ("is_adjustment", "adjusts_period", "adjustment_files", "adjustment_runs")


def copy(settings: Settings, target) -> Settings:
    shutil.copytree(settings.home, target / "home")
    return Settings(home=target / "home", start_date=settings.start_date)


@pytest.fixture(scope="module")
def manifest(dbt_manifest):
    return load_manifest(dbt_manifest)


@pytest.fixture(scope="module")
def published(tmp_path_factory, dbt_manifest) -> Settings:
    """January and February's first two days generated, run and published (late files
    not delivered yet)."""
    settings = Settings(home=tmp_path_factory.mktemp("close") / "home", start_date=REQUEST.start)
    generate(settings.landing, settings.truth, REQUEST)
    run_windows(settings, [(REQUEST.start, BEFORE_DELIVERY)])
    return settings


def late_window(settings: Settings) -> tuple[date, date]:
    """From the first date the late files touch to the delivery day: one run."""
    truth = pl.read_parquet(settings.truth / TRUTH_FILE)
    return truth["business_date"].min(), DELIVERY


@pytest.fixture(scope="module")
def never_closed(published, tmp_path_factory) -> Settings:
    """The same deliveries and run without any close: the figures as they truly are."""
    settings = copy(published, tmp_path_factory.mktemp("never-closed"))
    assert deliver_late(settings.home, settings.landing, DELIVERY)
    run_windows(settings, [late_window(settings)])
    return settings


@pytest.fixture(scope="module")
def closed(published, manifest, tmp_path_factory) -> tuple[Settings, dict]:
    """January closed, then the late files delivered and run, then the delivery day again:
    a run that cannot reach January, which must keep what the first compared (the
    differences are compared again only for the months a run can change). Returns the home
    and each closing mart's January rows as published at the close."""
    settings = copy(published, tmp_path_factory.mktemp("closed"))
    close_period(settings, manifest, JANUARY, "controller", "month end")
    at_close = {spec.name: january_rows(settings, spec) for spec in closing_marts(manifest)}
    assert deliver_late(settings.home, settings.landing, DELIVERY)
    run_windows(settings, [late_window(settings), (DELIVERY, DELIVERY)])
    return settings, at_close


def january_rows(settings: Settings, spec) -> list[tuple]:
    """The mart's published January rows, figures only (a merge may re-key), sorted."""
    period = f"strftime({spec.period_column}, '%Y-%m')"
    if spec.period_column in spec.text_columns:
        period = spec.period_column
    with duckdb.connect(str(settings.marts_db), read_only=True) as con:
        return sorted(
            con.execute(
                f"select {', '.join(figure_columns(spec))} from {spec.name} "
                f"where {period} = '{JANUARY}'"
            ).fetchall(),
            key=repr,
        )


def marts_sums(settings: Settings, mart: str, measures: list[str], where: str = "true") -> dict:
    """Per brand, each measure summed over the published rows ``where`` selects."""
    sums = ", ".join(f"sum({m})" for m in measures)
    with duckdb.connect(str(settings.marts_db), read_only=True) as con:
        rows = con.execute(
            f"select brand_code, {sums} from {mart} where {where} group by brand_code"
        ).fetchall()
    return {brand: tuple(values) for brand, *values in rows}


def test_late_data_leaves_every_closed_figure_as_it_was_at_the_close(closed, manifest):
    settings, at_close = closed
    for spec in closing_marts(manifest):
        assert january_rows(settings, spec) == at_close[spec.name], spec.name


def test_the_open_month_carries_the_truths_differences(closed):
    settings, _ = closed
    truth = pl.read_parquet(settings.truth / TRUTH_FILE).filter(pl.col("period") == JANUARY)
    voided = (
        truth.filter(pl.col("kind") == "VOIDED_LINE")
        .group_by("brand_code")
        .agg(pl.col("units").sum(), pl.col("gross_sales").sum(), pl.len().alias("lines"))
    )
    assert voided.height > 0 and truth.filter(pl.col("kind") == "LATE_POSTING").height > 0
    carried = marts_sums(
        settings,
        "fct_margin_daily",
        ["units", "gross_sales", "order_lines"],
        f"is_adjustment and adjusts_period = '{JANUARY}' and business_date = date '2024-02-01'",
    )
    expected = {brand: (units, gross, -lines) for brand, units, gross, lines in voided.iter_rows()}
    assert carried == expected
    with duckdb.connect(str(settings.marts_db), read_only=True) as con:
        recon = {
            (brand, measure): (operational, ledger)
            for brand, measure, operational, ledger in con.execute(
                "select brand_code, measure, operational_amount, ledger_amount "
                "from recon_sales_ledger where is_adjustment "
                f"and adjusts_period = '{JANUARY}' and measure in ('REVENUE', 'RECEIVABLES')"
            ).fetchall()
        }
        listed = con.execute(
            "select distinct adjustment_files from period_adjustments "
            f"where adjusts_period = '{JANUARY}'"
        ).fetchall()
    books = truth.group_by("brand_code").agg(
        pl.col("recognized_revenue").sum(),
        pl.col("ledger_revenue").sum(),
        pl.col("ledger_receivables").sum(),
    )
    for brand, revenue, ledger_revenue, receivables in books.iter_rows():
        assert recon[brand, "REVENUE"] == (revenue, ledger_revenue), brand
        assert recon[brand, "RECEIVABLES"][1] == receivables, brand
    [(files,)] = listed
    for name in truth["file_name"].unique():
        assert name in files


def test_every_figure_summed_with_its_adjustments_is_the_never_closed_figure(
    closed, never_closed, manifest
):
    """What late data changed is carried, not lost: per brand, every measure of the
    adjusted marts summed over all rows equals the never-closed warehouse's."""
    settings, _ = closed
    for spec in closing_marts(manifest):
        if "is_adjustment" not in spec.columns:
            continue
        measures = [
            c
            for c in (
                "gross_sales",
                "recognized_revenue",
                "cogs",
                "points_earned",
                "ledger_amount",
                "operational_amount",
            )
            if c in spec.columns
        ]
        assert marts_sums(settings, spec.name, measures) == marts_sums(
            never_closed, spec.name, measures
        ), spec.name


def test_each_customers_lifetime_figures_take_the_late_data_once(closed, never_closed):
    """The profile sums customer_daily_activity: January as closed plus the change carried
    into February per customer and brand gives each customer the never-closed figures."""
    lifetime = (
        "select customer_key, order_count, recognized_revenue, gross_margin, points_balance "
        "from customer_profile"
    )

    def customers(settings: Settings) -> set[tuple]:
        with duckdb.connect(str(settings.marts_db), read_only=True) as con:
            return set(con.execute(lifetime).fetchall())

    settings, _ = closed
    with duckdb.connect(str(settings.marts_db), read_only=True) as con:
        [(carried,)] = con.execute(
            "select count(*) from customer_daily_activity "
            f"where is_adjustment and adjusts_period = '{JANUARY}'"
        ).fetchall()
    assert carried > 0
    as_closed, as_never_closed = customers(settings), customers(never_closed)
    assert as_never_closed <= as_closed
    # A customer whose only order was voided late keeps their January purchase as closed,
    # netted to nothing; never closed, the corrected file leaves no trace of them.
    assert all(not any(figures) for _, *figures in as_closed - as_never_closed)


def test_the_gate_holds_closed_months_and_fails_on_a_tampered_row(closed, manifest):
    settings, _ = closed
    specs = {spec.name: spec for spec in closing_marts(manifest)}

    def failing() -> list[str]:
        return [
            name
            for name, spec in specs.items()
            if not validate(
                settings.build_db, closed_periods_suite(spec, manifest, Window.everything()).suite
            ).passed
        ]

    assert failing() == []
    with duckdb.connect(str(settings.build_db)) as con:
        con.execute(
            "update closed.recon_sales_ledger set ledger_amount = ledger_amount + 0.01 "
            "where rowid = (select min(rowid) from closed.recon_sales_ledger)"
        )
    assert failing() == ["recon_sales_ledger"]


def test_reopen_and_rerun_gives_the_never_closed_figures_and_a_new_close(
    closed, never_closed, manifest, tmp_path
):
    settings = copy(closed[0], tmp_path)
    reopen_period(settings, JANUARY, "controller", "late corrections")
    with pytest.raises(PeriodRefused, match=r"reopened \(2024-01\) and not published since"):
        close_period(settings, manifest, JANUARY, "controller", "too soon")
    run_windows(settings, [(DELIVERY, DELIVERY)])  # the nightly publishes January anew
    for spec in closing_marts(manifest):
        assert january_rows(settings, spec) == january_rows(never_closed, spec), spec.name
    with duckdb.connect(str(settings.marts_db), read_only=True) as con:
        assert con.execute("select count(*) from period_adjustments").fetchone() == (0,)
        carried = con.execute("select count(*) from fct_margin_daily where is_adjustment")
        assert carried.fetchone() == (0,)
    again = close_period(settings, manifest, JANUARY, "controller", "re-close")
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        closes = con.execute(
            "select count(distinct event_id) from audit.period_checksums where period = ?",
            [JANUARY],
        ).fetchone()
    assert closes == (2,) and again.checksums["fct_margin_daily"][0] > 0


def test_a_close_without_late_data_changes_no_mart(published, manifest, tmp_path):
    settings = copy(published, tmp_path)
    close_period(settings, manifest, JANUARY, "controller", None)
    run_windows(settings, [(DELIVERY, DELIVERY)])  # nothing late delivered
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        for spec in closing_marts(manifest):
            built = ", ".join(c for c in spec.columns if not c.startswith(ADJUSTMENT_COLUMNS))
            shown = con.execute(
                f"select count(*) from (select {built} from {spec.relation} "
                f"except all select {built} from {spec.as_built} where {spec.as_built_rows})"
            ).fetchone()
            extra = con.execute(
                f"select count(*) from (select {built} from {spec.as_built} "
                f"where {spec.as_built_rows} except all select {built} from {spec.relation})"
            ).fetchone()
            assert (shown, extra) == ((0,), (0,)), spec.name


def test_the_reports_show_the_month_as_closed_and_its_adjustments(closed):
    """The month-end page (written by the publication after the late data) and the daily
    report of the carrying day, against the published marts."""
    settings, _ = closed
    [january] = [m for m in published_months(settings.build_db) if m.period == JANUARY]
    assert january.status == "closed" and "fct_margin_daily" in january.adjusted_marts
    page = figures(settings.reports / "month_end" / f"{JANUARY}.html")
    day = figures(settings.reports / "daily" / "2024-02-01.html")
    with duckdb.connect(str(settings.marts_db), read_only=True) as con:
        revenue = con.execute(
            "select brand_code, sum(recognized_revenue) from fct_margin_daily "
            "where business_date between date '2024-01-01' and date '2024-01-31' "
            "group by brand_code"
        ).fetchall()
        adjustments = con.execute(
            "select mart, brand_code, item, measure, adjustment_amount, carried_into_period "
            "from period_adjustments"
        ).fetchall()
    assert revenue and adjustments
    for brand, amount in revenue:
        assert Decimal(page[f"month:{JANUARY}:{brand}:revenue"]) == amount
    carried = [a for a in adjustments if a[-1] == "2024-02"]
    assert carried
    for mart, brand, item, measure, amount, into in adjustments:
        key = f"{mart}:{brand}:{item}:{measure}"
        assert Decimal(page[f"month:{JANUARY}:{key}"]) == amount
        # The day carrying them lists the adjustment rows; the month's page lists all.
        assert (f"adjustment:{JANUARY}:{key}" in day) == (into is not None), key
        if into:
            assert Decimal(day[f"adjustment:{JANUARY}:{key}"]) == amount


def figures(page) -> dict[str, str]:
    parser = Figures()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.values
