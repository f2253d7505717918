"""Period close: a month is closed only when every date of it was published with its error
gates passed; its published figures are then held by the closed_periods gate until it is
reopened. Every close and reopen is audited."""

import shutil
from datetime import date

import dagster as dg
import duckdb
import pytest

from pipelines.defs import build_definitions
from pipelines.defs.periods.jobs import CLOSE_JOB, REOPEN_JOB
from pipelines.gates.closed_periods import closed_periods_suite
from pipelines.gates.marts import mart_specs
from pipelines.gates.validate import validate
from pipelines.gates.window import Window
from pipelines.periods import (
    PeriodRefused,
    close_period,
    closing_marts,
    ensure_period_tables,
    published_months,
    reopen_period,
)
from pipelines.settings import Settings
from pipelines.transform.manifest import load_manifest
from tests.conftest import GENERATED, LAST_DAY
from tests.e2e.test_cli import yecai

pytestmark = pytest.mark.slow
MARCH = "2024-03"  # the generated days cover 2024-03-25..2024-04-05
FIRST = ("--start-date", str(GENERATED.start))


@pytest.fixture
def home(pipeline_home, tmp_path) -> Settings:
    """A copy of the published pipeline home, its first business date the generator's."""
    settings = Settings(home=tmp_path / "home", start_date=GENERATED.start)
    shutil.copytree(pipeline_home.home, settings.home)
    return settings


@pytest.fixture
def manifest(dbt_manifest):
    return load_manifest(dbt_manifest)


def gate_failures(settings: Settings, manifest, window: Window) -> dict[str, list]:
    """The closed_periods gate of each mart: the months it finds changed."""
    failures = {}
    for spec in closing_marts(manifest):
        outcome = validate(settings.build_db, closed_periods_suite(spec, manifest, window).suite)
        assert not any(o.error for o in outcome.outcomes), outcome.outcomes
        if not outcome.passed:
            failures[spec.name] = outcome.failed[0].sample
    return failures


def test_every_mart_with_money_by_date_is_held_by_a_close(manifest):
    specs = {spec.name: spec for spec in mart_specs(manifest)}
    held = {spec.name for spec in closing_marts(manifest)}
    # the merge and split logs and identity_review_queue are identity, the profile has no month
    # (its history is customer_daily_activity), period_adjustments lists the closed months'
    # late data, the dims are reference data: every other mart is held.
    unheld = {
        "customer_key_merges",
        "customer_key_splits",
        "identity_review_queue",
        "customer_profile",
        "period_adjustments",
    }
    assert held == {name for name in specs if not name.startswith("dim_")} - unheld


def test_a_close_names_each_date_not_yet_published(home, manifest):
    with pytest.raises(PeriodRefused) as refused:
        close_period(home, manifest, "2024-04", "controller", None)
    assert f"2024-04-{LAST_DAY.day + 1:02d}..2024-04-30: never published" in str(refused.value)
    assert "2024-04-01" not in str(refused.value)  # published dates do not block
    with pytest.raises(PeriodRefused, match="not a month"):
        close_period(home, manifest, "2024-13", "controller", None)


def test_a_close_names_a_date_whose_error_gates_failed(home, manifest):
    with duckdb.connect(str(home.build_db)) as con:
        con.execute(
            "insert into audit.unpublished_windows values "
            "('run-failed', date '2024-03-27', date '2024-03-27', now())"
        )
        con.execute(
            "insert into audit.gate_results (run_id, gate, suite, asset, severity, expectation, "
            "passed, evaluated_at) values ('run-failed', 'gate_raw', 'raw_sales', "
            "'staging/stg_sales__order_lines', 'error', 'x', false, now())"
        )
    with pytest.raises(PeriodRefused) as refused:
        close_period(home, manifest, MARCH, "controller", None)
    assert str(refused.value).splitlines()[1:] == [
        "  - 2024-03-27: built by run run-failed and not published: "
        "its error gates failed (gate_raw)"
    ]


def test_a_closed_month_is_held_until_reopened_and_every_step_is_audited(home, manifest):
    close = close_period(home, manifest, MARCH, "controller", "Q1 books")
    assert close.checksums["fct_sales_margin"][0] > 0
    assert [(m.period, m.status, m.by) for m in published_months(home.build_db)] == [
        (MARCH, "closed", "controller"),
        ("2024-04", "open", None),
    ]
    with pytest.raises(PeriodRefused, match="already closed"):
        close_period(home, manifest, MARCH, "controller", None)
    everything, april = Window.everything(), Window(date(2024, 4, 1), LAST_DAY)
    assert gate_failures(home, manifest, everything) == {}

    with duckdb.connect(str(home.build_db)) as con:
        # A merge may re-key a closed row: keys are not figures.
        con.execute(
            "update closed.fct_sales_margin set customer_key = 'survivor' "
            "where business_date = date '2024-03-26'"
        )
    assert gate_failures(home, manifest, everything) == {}
    with duckdb.connect(str(home.build_db)) as con:
        con.execute(
            "update closed.fct_margin_daily set recognized_revenue = recognized_revenue + 1 "
            "where rowid = (select min(rowid) from closed.fct_margin_daily "
            "where business_date = date '2024-03-26')"
        )
    failures = gate_failures(home, manifest, everything)
    assert list(failures) == ["fct_margin_daily"]
    assert MARCH in str(failures["fct_margin_daily"])
    # A run of April days cannot change March in a mart replaced by date: not read then.
    assert "fct_margin_daily" not in gate_failures(home, manifest, april)

    reopen_period(home, MARCH, "controller", "late supplier invoice")
    assert gate_failures(home, manifest, everything) == {}
    with pytest.raises(PeriodRefused, match="not closed"):
        reopen_period(home, MARCH, "controller", "again")
    with duckdb.connect(str(home.build_db), read_only=True) as con:
        events = con.execute(
            "select period, action, done_by, reason from audit.period_events order by done_at"
        ).fetchall()
        checksums = con.execute(
            "select count(distinct mart) from audit.period_checksums"
        ).fetchone()
    assert events == [
        (MARCH, "CLOSE", "controller", "Q1 books"),
        (MARCH, "REOPEN", "controller", "late supplier invoice"),
    ]
    assert checksums == (len(close.checksums),)


def test_the_commands(home):
    refused = yecai(home.home, *FIRST, "close-period", "2024-04", "--by", "controller")
    assert refused.returncode == 1 and "never published" in refused.stderr
    closed = yecai(home.home, *FIRST, "close-period", MARCH, "--by", "controller", "--reason", "Q1")
    assert closed.returncode == 0, closed.stderr
    assert f"closed {MARCH} (by controller" in closed.stdout and "fct_margin_daily" in closed.stdout
    listing = yecai(home.home, *FIRST, "periods")
    assert listing.returncode == 0
    assert [line.split()[:3] for line in listing.stdout.splitlines()[1:]] == [
        [MARCH, "closed", "controller"],
        ["2024-04", "open"],
    ]
    not_a_month = yecai(home.home, *FIRST, "close-period", "24-03")
    assert not_a_month.returncode == 2 and "YYYY-MM" in not_a_month.stderr
    needs_reason = yecai(home.home, *FIRST, "reopen-period", MARCH, "--by", "controller")
    assert needs_reason.returncode == 2  # argparse: --reason is required


def test_a_controller_closes_and_reopens_from_the_ui(home):
    defs = build_definitions(home)
    with dg.instance_for_test() as instance:
        refused = defs.resolve_job_def(CLOSE_JOB).execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={"ops": {"close_month": {"config": {"period": "2024-04", "by": "王会计"}}}},
        )
        assert not refused.success
        [failure] = [e for e in refused.all_events if e.is_step_failure]
        assert "never published" in failure.step_failure_data.error.message

        closed = defs.resolve_job_def(CLOSE_JOB).execute_in_process(
            instance=instance,
            run_config={"ops": {"close_month": {"config": {"period": MARCH, "by": "王会计"}}}},
        )
        assert closed.success
        [output] = [e for e in closed.all_node_events if e.is_successful_output]
        shown = output.event_specific_data.metadata  # what the run page shows
        assert shown["dates checked"].value == "2024-03-01..2024-03-31"
        assert shown["checksums"].value["fct_margin_daily"]["rows"] > 0
        reopened = defs.resolve_job_def(REOPEN_JOB).execute_in_process(
            instance=instance,
            run_config={
                "ops": {
                    "reopen_month": {
                        "config": {"period": MARCH, "by": "王会计", "reason": "late invoice"}
                    }
                }
            },
        )
        assert reopened.success
    with duckdb.connect(str(home.build_db), read_only=True) as con:
        events = con.execute(
            "select action, done_by, run_id from audit.period_events order by done_at"
        ).fetchall()
    assert events == [
        ("CLOSE", "王会计", closed.run_id),
        ("REOPEN", "王会计", reopened.run_id),
    ]


def test_a_warehouse_from_before_period_close_keeps_its_history(manifest, tmp_path):
    """Its marts were the incremental tables; their rows become the as-built models'."""
    build = tmp_path / "build.duckdb"
    with duckdb.connect(str(build)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.fct_margin_daily as select date '2024-01-05' as d")
        con.execute("create view marts.fct_sales_margin as select 1 as x")  # was a view
    ensure_period_tables(build, manifest)
    ensure_period_tables(build, manifest)  # the next run: nothing left to adopt
    with duckdb.connect(str(build), read_only=True) as con:
        assert con.execute("select d from intermediate.int_margin__daily").fetchall() == [
            (date(2024, 1, 5),)
        ]
        left = con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
    assert left == [("fct_sales_margin",)]


def test_a_mart_added_after_a_close_holds_the_closed_month_as_built_then(home, manifest):
    """An upgrade brings a closing mart the close did not freeze: before the next build
    its rows of the month are frozen from its as-built model, with the checksum a close
    then would have recorded (nothing arrived since), and the gate holds it."""
    close = close_period(home, manifest, MARCH, "controller", None)
    added = "customer_daily_activity"
    with duckdb.connect(str(home.build_db)) as con:
        con.execute(f"drop table closed.{added}")
        con.execute("delete from audit.period_checksums where mart = ?", [added])
    ensure_period_tables(home.build_db, manifest)
    ensure_period_tables(home.build_db, manifest)  # the next run: nothing left to freeze
    with duckdb.connect(str(home.build_db), read_only=True) as con:
        recorded = con.execute(
            "select event_id, row_count, checksum from audit.period_checksums where mart = ?",
            [added],
        ).fetchall()
    assert recorded == [(close.event_id, *close.checksums[added])]
    assert gate_failures(home, manifest, Window.everything()) == {}
