"""A run killed anywhere (SIGKILL of the run and its dbt, as a power cut would) and run
again gives exactly the marts a clean run gives, and analysts never see half a file.

Each case copies a home where day 1 is published and then a corrected day-1 sales file
arrived, runs days 1-2 with ``$YECAI_CRASH_AT`` set to one point (pipelines/crash_points.py),
checks what the crash left, runs them again and compares every published row (md5 of each
row), the audit and the lake with a clean run's.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.crash_points import CRASH_AT_ENV
from pipelines.generate import GenerateRequest, generate
from pipelines.ingest.landing import write_control
from pipelines.settings import Settings
from tests.e2e.test_cli import YECAI, yecai_env

pytestmark = pytest.mark.reliability

DAYS = GenerateRequest(start=date(2024, 3, 30), days=2, scale=0.05, seed=11, anomalies=0.01)
DAY_1, DAY_2 = DAYS.start, DAYS.start + timedelta(days=1)

# Where the kill lands → whether marts.duckdb is the new one afterwards. Ingest: before any
# write, a lake partition half swapped, rows in the lake but not in the audit, after the
# audit. dbt: a staging, an intermediate and two mart models done and the rest running.
# Gates: validated but not recorded, recorded but not reported. Publish: the new file
# written but not in place, in place but not recorded; then the daily reports.
CRASH_POINTS = {
    "ingest.read": False,
    "lake.staged": False,
    "lake.swapping": False,
    "ingest.committed": False,
    "ingest.audited": False,
    "dbt.staging__stg_sales__order_lines": False,
    "dbt.intermediate__int_identity__record_keys": False,
    "dbt.marts__fct_sales_margin": False,
    "dbt.marts__recon_breaks": False,
    "gates.validated": False,
    "gates.recorded": False,
    "publish.copied": False,
    "publish.replaced": True,
    "report.written": True,
}


def yecai_run(
    home: Path, start: date, end: date, crash_at: str | None = None
) -> subprocess.CompletedProcess:
    env = yecai_env() | ({CRASH_AT_ENV: crash_at} if crash_at else {})
    return subprocess.run(
        [YECAI, "--home", str(home), "run", "--start", str(start), "--end", str(end)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        start_new_session=True,  # the crash kills its own process group, not pytest
    )


def published_rows(marts_db: Path) -> dict[str, list[str]]:
    """Every table of the published file → the sorted md5 of each of its rows."""
    with duckdb.connect(str(marts_db), read_only=True) as con:
        tables = [t for (t,) in con.execute("select table_name from duckdb_tables()").fetchall()]
        row_hashes = 'select md5(t::varchar) h from "{}" t order by h'
        return {
            table: [h for (h,) in con.execute(row_hashes.format(table)).fetchall()]
            for table in sorted(tables)
        }


def audit_and_lake(settings: Settings) -> tuple[list[tuple], list[str]]:
    """What the audit says the lake holds per file, and the lake's files."""
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        audit = con.execute(
            """
            select source, business_date, file_name, file_sha256, rows_read, rows_loaded,
                   rows_quarantined
            from audit.ingest_files where status = 'LOADED'
            qualify row_number() over (
                partition by source, business_date, file_name order by ingested_at desc) = 1
            order by all
            """
        ).fetchall()
    lake = sorted(str(p.relative_to(settings.lake)) for p in settings.lake.glob("**/*.parquet"))
    return audit, lake


def leftovers(settings: Settings) -> list[Path]:
    """What a killed run may leave and the next run must clear."""
    return [
        *settings.home.glob("lake/*/.staging/*"),
        *settings.home.glob("lake/*/.trash/*"),
        *settings.warehouse.glob(".marts.duckdb.*"),
        *settings.warehouse.glob(".runs/*"),
    ]


def deliver_correction(settings: Settings, day: date) -> None:
    """The source sends its sales file of ``day`` again, its last two lines in the other
    order: new content (the partition is replaced) and the same figures (gates pass)."""
    path = sorted((settings.landing / "sales" / day.isoformat()).glob("*.csv"))[0]
    lines = path.read_bytes().splitlines(keepends=True)
    corrected = b"".join([*lines[:-2], lines[-1], lines[-2]])
    path.write_bytes(corrected)
    write_control(path, corrected, len(lines) - 1)


@pytest.fixture(scope="module")
def homes(tmp_path_factory) -> tuple[Settings, Settings]:
    """Day 1 published and then corrected (the base each case starts from), and the clean
    run of days 1-2 on it."""
    base = Settings(home=tmp_path_factory.mktemp("base") / "home")
    generate(base.landing, base.truth, DAYS)
    assert yecai_run(base.home, DAY_1, DAY_1).returncode == 0
    deliver_correction(base, DAY_1)
    clean = Settings(home=tmp_path_factory.mktemp("clean") / "home")
    shutil.copytree(base.home, clean.home)
    finished = yecai_run(clean.home, DAY_1, DAY_2)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    return base, clean


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_run_killed_anywhere_reruns_to_the_marts_of_a_clean_run(point, homes, tmp_path):
    base, clean = homes
    settings = Settings(home=tmp_path / "home")
    shutil.copytree(base.home, settings.home)

    killed = yecai_run(settings.home, DAY_1, DAY_2, crash_at=point)
    assert killed.returncode == -signal.SIGKILL, f"{point} was not reached: {killed.stderr}"
    # marts.duckdb is whole: the last publication, or (killed after the rename) the new one.
    expected_now = clean if CRASH_POINTS[point] else base
    assert published_rows(settings.marts_db) == published_rows(expected_now.marts_db)

    rerun = yecai_run(settings.home, DAY_1, DAY_2)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "had died unfinished; marked failed" in rerun.stderr
    assert published_rows(settings.marts_db) == published_rows(clean.marts_db)
    assert audit_and_lake(settings) == audit_and_lake(clean)
    assert leftovers(settings) == []
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        statuses = [run.status for run in instance.get_runs()]  # newest first
    assert statuses[:2] == [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE]
