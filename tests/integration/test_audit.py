"""A nightly run's gates read what the run changed; the audit (``yecai audit``, the weekly
Dagster job) reads every row and keeps its verdicts in the gate history."""

import shutil

import dagster as dg
import duckdb
import polars as pl
import pytest

from pipelines.defs import build_definitions
from pipelines.defs.gates.audit import AUDIT_CRON, AUDIT_JOB, AUDIT_SCHEDULE
from pipelines.gates.config import load_gate_config
from pipelines.gates.suites import all_suites
from pipelines.gates.validate import validate
from pipelines.gates.window import Window
from pipelines.settings import Settings
from tests.conftest import GENERATED, LAST_DAY
from tests.e2e.test_cli import yecai

pytestmark = pytest.mark.slow
PHONE = "+86 138-1234-5678"
ORDER_LINES = "intermediate.int_margin__order_lines"


@pytest.fixture
def tampered_home(pipeline_home, tmp_path) -> Settings:
    """The published pipeline home with a phone typed into a line of its first day."""
    settings = Settings(home=tmp_path / "home")
    shutil.copytree(pipeline_home.home, settings.home)
    with duckdb.connect(str(settings.build_db)) as con:
        con.execute(
            f"update {ORDER_LINES} set trace_code = '{PHONE}' where rowid = (select min(rowid) "
            f"from {ORDER_LINES} where business_date = date '{GENERATED.start}')"
        )
    return settings


def audit_results(settings: Settings) -> pl.DataFrame:
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        return con.sql("select * from audit.gate_results where run_id like 'audit-%'").pl()


def test_the_nightly_gate_reads_its_night_and_the_audit_reads_everything(
    tampered_home, dbt_manifest
):
    nightly = {
        s.suite.name: s
        for s in all_suites(Window(LAST_DAY, LAST_DAY), load_gate_config(), dbt_manifest)
    }
    assert validate(tampered_home.build_db, nightly["pii_fct_sales_margin"].suite).passed

    done = yecai(tampered_home.home, "audit")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "gate_pii on marts/fct_sales_margin: no phone in any text column" in done.stdout
    assert PHONE not in done.stdout + done.stderr
    failed = audit_results(tampered_home).filter(~pl.col("passed") & (pl.col("gate") == "gate_pii"))
    assert failed["suite"].to_list() == ["pii_fct_sales_margin"]
    assert failed["severity"].to_list() == ["error"]

    # An audit of the last day only reads that day: it passes, and is recorded too.
    ranged = yecai(tampered_home.home, "audit", "--start", str(LAST_DAY))
    assert ranged.returncode == 0, ranged.stdout + ranged.stderr
    assert audit_results(tampered_home)["run_id"].n_unique() == 2


def test_the_weekly_audit_job_fails_naming_the_gate(tampered_home):
    defs = build_definitions(tampered_home)
    schedule = defs.resolve_schedule_def(AUDIT_SCHEDULE)
    assert schedule.cron_schedule == AUDIT_CRON and schedule.execution_timezone == "Asia/Shanghai"
    assert schedule.job_name == AUDIT_JOB
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def(AUDIT_JOB).execute_in_process(
            instance=instance, raise_on_error=False
        )
        assert not result.success
        [failure] = [e for e in result.all_events if e.is_step_failure]
        message = failure.step_failure_data.error.message
        assert "gate_pii on marts/fct_sales_margin" in message and PHONE not in message
        with duckdb.connect(str(tampered_home.build_db), read_only=True) as con:
            [(rows,)] = con.execute(
                "select count(*) from audit.gate_results where run_id = ?", [result.run_id]
            ).fetchall()
        assert rows > 100
