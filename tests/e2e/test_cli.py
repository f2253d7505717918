"""The `yecai` command as users run it: demo, run (exit codes), sql."""

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from pipelines.generate import GenerateRequest, generate
from pipelines.ingest.landing import write_control
from pipelines.settings import Settings
from tests.conftest import TEST_PII_KEY
from tests.integration.test_marts import MARTS
from tests.pii_scan import database_findings, raw_pii_values, text_findings

pytestmark = pytest.mark.slow
YECAI = str(Path(sys.executable).with_name("yecai"))


def yecai(home: Path, *args: str, key: str | None = TEST_PII_KEY) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YECAI_", "DAGSTER_"))}
    if key:
        env["YECAI_PII_KEY"] = key
    return subprocess.run(
        [YECAI, "--home", str(home), *args], env=env, capture_output=True, text=True, timeout=600
    )


def files_text(folder: Path) -> str:
    return "\n".join(
        p.read_bytes().decode("utf-8", "replace") for p in sorted(folder.rglob("*")) if p.is_file()
    )


def test_demo_publishes_marts_that_sql_can_query(tmp_path):
    home = tmp_path / "home"
    result = yecai(home, "demo", "--days", "4", key=None)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "DEMO MODE" in result.stderr
    settings = Settings(home=home)
    with duckdb.connect(str(settings.marts_db), read_only=True) as con:
        tables = [t for (t,) in con.execute("show tables").fetchall()]
        lines = con.execute("select count(*) from fct_sales_margin").fetchone()[0]
    assert set(tables) == MARTS and lines > 100
    query = yecai(
        home,
        "sql",
        "select brand_code, count(*) as n from fct_sales_margin group by 1 order by 1",
        "--csv",
        key=None,
    )
    assert query.returncode == 0, query.stderr
    assert query.stdout.splitlines()[0] == "brand_code,n"
    assert {row.split(",")[0] for row in query.stdout.splitlines()[1:]} == {
        "AUR",
        "KDK",
        "KWH",
        "MER",
        "VEL",
    }
    # Nothing a run leaves behind holds raw personal data.
    values = raw_pii_values(settings.landing)
    assert database_findings(settings.build_db, values) == []
    assert database_findings(settings.marts_db, values) == []
    everything = (
        result.stdout
        + result.stderr
        + files_text(settings.logs)
        + files_text(settings.dagster_home)
    )
    assert text_findings(everything, values) == []


@pytest.fixture
def three_days(tmp_path) -> Settings:
    settings = Settings(home=tmp_path / "home")
    start = date(2024, 6, 3)
    generate(settings.landing, settings.truth, GenerateRequest(start=start, days=3, scale=0.03))
    return settings


def test_run_exit_codes_and_marts_unchanged_on_failure(three_days):
    home = three_days.home
    first = yecai(home, "run", "--start", "2024-06-03")
    assert first.returncode == 0, first.stderr
    assert "published" in first.stdout
    published = three_days.marts_db.read_bytes()

    # A broken mart row (outside the next window) must stop the next publication.
    with duckdb.connect(str(three_days.build_db)) as con:
        con.execute(
            "insert into marts.fct_sales_margin select * from marts.fct_sales_margin limit 1"
        )
    gated = yecai(home, "run", "--start", "2024-06-04")
    assert gated.returncode == 1, gated.stderr
    assert "failed before publishing" in gated.stderr
    assert "unique_combination_fct_sales_margin_order_id__line_no" in gated.stderr
    assert three_days.marts_db.read_bytes() == published
    with duckdb.connect(str(three_days.build_db)) as con:
        con.execute("delete from marts.fct_sales_margin where business_date = '2024-06-03'")

    # An unreadable file is bad input: exit 2, the file named, nothing published.
    bad = three_days.landing / "sales" / "2024-06-05" / "kids_pos_20240605.csv"
    rows = bad.read_bytes().count(b"\n") - 1
    gbk = bad.read_bytes().decode().encode("gb18030")
    bad.write_bytes(gbk)
    write_control(bad, gbk, rows)  # the source's own control file for what it sent
    broken = yecai(home, "run", "--start", "2024-06-05")
    assert broken.returncode == 2, broken.stderr
    assert "kids_pos_20240605.csv" in broken.stderr and "not UTF-8" in broken.stderr
    assert three_days.marts_db.read_bytes() == published


def test_run_refuses_without_a_pii_key_or_with_a_bad_window(three_days):
    home = three_days.home
    no_key = yecai(home, "run", "--start", "2024-06-03", key=None)
    assert no_key.returncode == 2 and "YECAI_PII_KEY is not set" in no_key.stderr
    backwards = yecai(home, "run", "--start", "2024-06-05", "--end", "2024-06-03")
    assert backwards.returncode == 2 and "before --start" in backwards.stderr
    future = (date.today() + timedelta(days=3)).isoformat()
    ahead = yecai(home, "run", "--start", future)
    assert ahead.returncode == 2 and "in the future" in ahead.stderr
    assert not three_days.marts_db.exists()


def test_sql_is_read_only_and_cannot_reach_files(tmp_path):
    settings = Settings(home=tmp_path / "home")
    settings.warehouse.mkdir(parents=True)
    with duckdb.connect(str(settings.marts_db)) as con:
        con.execute("create table fct_sales_margin as select 1 as x")
    write = yecai(settings.home, "sql", "drop table fct_sales_margin")
    assert write.returncode == 2 and "read-only" in write.stderr
    escape = yecai(settings.home, "sql", "select * from read_csv('/etc/hostname')")
    assert escape.returncode == 2 and "disabled by configuration" in escape.stderr
    ok = yecai(settings.home, "sql", "select x from fct_sales_margin", "--csv")
    assert ok.returncode == 0 and ok.stdout.split() == ["x", "1"]
