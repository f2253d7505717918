"""The `yecai` command as users run it: demo, run (exit codes), sql."""

import fcntl
import os
import pty
import re
import shlex
import shutil
import sqlite3
import struct
import subprocess
import sys
import termios
import time
import zlib
from contextlib import closing, suppress
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.defs import build_definitions
from pipelines.defs.automation.triggers import FAILED_RUNS_SENSOR
from pipelines.defs.resources import YecaiResource
from pipelines.generate import GenerateRequest, generate
from pipelines.ingest.landing import write_control
from pipelines.runs.summary import FAILED_RUNS_LOG, rerun_hint
from pipelines.settings import Settings, recorded_start_date
from tests.conftest import TEST_PII_KEY
from tests.integration.test_marts import DIMS, MARTS
from tests.pii_scan import database_findings, raw_pii_values, text_findings

pytestmark = pytest.mark.slow
YECAI = str(Path(sys.executable).with_name("yecai"))


def yecai_env(key: str | None = TEST_PII_KEY) -> dict[str, str]:
    """This environment without the test process's own yecai and Dagster settings: a
    command sees only its --home and, when given, the PII key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YECAI_", "DAGSTER_"))}
    return {**env, "YECAI_PII_KEY": key} if key else env


def yecai(home: Path, *args: str, key: str | None = TEST_PII_KEY) -> subprocess.CompletedProcess:
    env = yecai_env(key)
    return subprocess.run(
        [YECAI, "--home", str(home), *args], env=env, capture_output=True, text=True, timeout=600
    )


def files_text(folder: Path, skip: str | None = None) -> str:
    """Every file's text (but those under a folder named ``skip``); of a SQLite file
    (Dagster's run and event storage), the text of every value it holds (its raw pages are
    binary, where a shape can appear by chance)."""
    return "\n".join(
        sqlite_text(p) if p.suffix == ".db" else p.read_bytes().decode("utf-8", "replace")
        for p in sorted(folder.rglob("*"))
        if p.is_file() and skip not in p.relative_to(folder).parts
    )


def sqlite_text(path: Path) -> str:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as con:
        tables = [t for (t,) in con.execute("select name from sqlite_master where type='table'")]
        return "\n".join(
            value if isinstance(value, str) else _blob_text(value)
            for table in tables
            for row in con.execute(f'select * from "{table}"')
            for value in row
            if isinstance(value, str | bytes)
        )


def _blob_text(blob: bytes) -> str:
    """A blob as the text it holds: Dagster stores its snapshots zlib-compressed (read as
    compressed bytes, their random bytes once spelled an e-mail shape: `\\xfeg@qu.Xg`)."""
    with suppress(zlib.error):
        blob = zlib.decompress(blob)
    return blob.decode("utf-8", "replace")


def test_demo_publishes_marts_that_sql_can_query(tmp_path):
    home = tmp_path / "home"
    result = yecai(home, "demo", "--days", "4", key=None)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "DEMO MODE" in result.stderr
    # Not a terminal: a line per phase, each whole (a model counts once, not once a day).
    phases = re.findall(r"^(ingest|dbt|gates|publish|reports) +(\d+)/(\d+) ", result.stderr, re.M)
    assert [name for name, _, _ in phases] == ["ingest", "dbt", "gates", "publish", "reports"]
    assert all(done == total for _, done, total in phases), phases
    # The home's partitions start with its sample: the UI shows no empty years before it.
    first_day = re.search(r"sample data \((\d{4}-\d\d-\d\d)\.\.", result.stdout).group(1)
    assert recorded_start_date(home) == date.fromisoformat(first_day)
    # The default defect rate publishes with warnings, and says which.
    assert "gate gate_compliance on marts/compliance_rx_violations warned" in result.stdout
    settings = Settings(home=home)
    assert (settings.reports / "gates" / "index.html").exists()
    assert (settings.reports / "daily").is_dir()
    with duckdb.connect(str(settings.marts_db), read_only=True) as con:
        tables = [t for (t,) in con.execute("show tables").fetchall()]
        lines = con.execute("select count(*) from fct_sales_margin").fetchone()[0]
    assert set(tables) == MARTS | DIMS and lines > 100
    # The rows ingested, counted once however many days the window has.
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        loaded = con.execute("select sum(rows_loaded) from audit.ingest_files").fetchone()[0]
    assert re.search(r"^ingest .*, ([\d,]+) rows\)", result.stderr, re.M).group(1) == f"{loaded:,}"
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
    # Piped into a reader that stops early (`| head`), it stops quietly.
    piped = subprocess.run(
        f"{shlex.quote(YECAI)} --home {shlex.quote(str(home))} sql "
        '"select * from range(1000000)" | head -1',
        shell=True,
        env=yecai_env(key=None),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert piped.stdout.startswith("┌") and piped.stderr == ""
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
    # The next steps it prints work as printed, in a shell where yecai is not on PATH.
    printed = dict(line.split(":", 1) for line in result.stdout.splitlines() if ":  " in line)
    shell = yecai_env(key=None)
    venv_bin = str(Path(YECAI).parent)
    shell["PATH"] = os.pathsep.join(p for p in shell["PATH"].split(os.pathsep) if p != venv_bin)
    follow = subprocess.run(
        printed["query them"], shell=True, env=shell, capture_output=True, text=True, timeout=120
    )
    assert follow.returncode == 0, follow.stderr
    assert "order_id" in follow.stdout and "5 rows" in follow.stdout
    assert Path(printed["dbt docs"].strip()).name == "static_index.html"
    assert Path(printed["dbt docs"].strip()).exists()


@pytest.fixture
def three_days(tmp_path) -> Settings:
    settings = Settings(home=tmp_path / "home")
    start = date(2024, 6, 3)
    generate(settings.landing, settings.truth, GenerateRequest(start=start, days=3, scale=0.03))
    return settings


def on_a_terminal(*command: str, columns: int = 160) -> tuple[int, str]:
    """Run ``command`` with a pseudo-terminal as its stdin, stdout and stderr (as a person
    at a terminal would); its exit code and everything it wrote there."""
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {**yecai_env(), "TERM": "xterm-256color", "COLUMNS": str(columns)}
    process = subprocess.Popen(command, stdin=child, stdout=child, stderr=child, env=env)
    os.close(child)
    written = bytearray()
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the terminal's other end closed
            break
        if not chunk:
            break
        written += chunk
    os.close(main)
    return process.wait(timeout=600), written.decode("utf-8", "replace")


def test_a_run_at_a_terminal_shows_its_phases_live(three_days):
    code, screen = on_a_terminal(
        YECAI, "--home", str(three_days.home), "run", "--start", "2024-06-03", "--end", "2024-06-04"
    )
    assert code == 0, screen[-3000:]
    # Live: the display redraws itself in place (cursor up, erase line) as counts grow ...
    assert "\x1b[2K" in screen and ("\x1b[1A" in screen or "\x1b[A" in screen)
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen)
    counts = {
        phase: re.findall(rf"{phase} +\S* *(\d+)/(\d+) +{unit}", plain)
        for phase, unit in (("ingest", "sources"), ("dbt", "models"), ("gates", "checks"))
    }
    for phase, seen in counts.items():
        assert seen, f"{phase} never shown:\n{plain[-3000:]}"
        # ... from partway to the whole: a two-day window's models count once each.
        done, total = seen[-1]
        assert done == total, (phase, seen[-1])
    assert int(counts["dbt"][0][0]) < int(counts["dbt"][-1][1])
    assert "published" in plain


READER = """
import sys, time, duckdb, pathlib
con = duckdb.connect(sys.argv[1], read_only=True)
query = "select count(*) from fct_sales_margin"
before = con.execute(query).fetchall()[0][0]
pathlib.Path(sys.argv[2]).write_text("ready")
while not pathlib.Path(sys.argv[3]).exists():
    time.sleep(0.2)
    con.execute(query).fetchall()  # keeps reading while runs replace the file
print(before, con.execute(query).fetchall()[0][0])
"""


def report_failure(settings: Settings) -> str:
    """Evaluate the failed-run sensor on the latest run, as the daemon would."""
    defs = build_definitions(settings)
    sensor = defs.resolve_sensor_def(FAILED_RUNS_SENSOR)
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        [run] = instance.get_runs(limit=1)
        failure = next(
            e.dagster_event
            for e in instance.all_logs(run.run_id)
            if e.dagster_event and e.dagster_event.event_type == dg.DagsterEventType.RUN_FAILURE
        )
        context = dg.build_run_status_sensor_context(
            sensor_name=FAILED_RUNS_SENSOR,
            dagster_event=failure,
            dagster_instance=instance,
            dagster_run=run,
            resources={"yecai": YecaiResource.from_settings(settings)},
        ).for_run_failure()
        sensor(context)
    return (settings.logs / FAILED_RUNS_LOG).read_text(encoding="utf-8").splitlines()[-1]


@pytest.mark.long  # runs, publications and readers over three days
def test_error_gates_stop_publication_and_readers_keep_their_snapshot(three_days, tmp_path):
    home, landing = three_days.home, three_days.landing
    day1, day2, day3 = "2024-06-03", "2024-06-04", "2024-06-05"
    first = yecai(home, "run", "--start", day1)
    assert first.returncode == 0, first.stderr
    # Not a terminal: a line per phase as it ends, with its counts and time.
    phases = [line.split()[:2] for line in first.stderr.splitlines() if line.endswith(" s")]
    assert [name for name, _ in phases] == ["ingest", "dbt", "gates", "publish", "reports"]
    assert all(done == total for done, total in (n.split("/") for _, n in phases)), phases
    assert phases[0][1] == "4/4" and "files" in first.stderr and "tests" in first.stderr
    published = three_days.marts_db.read_bytes()

    # An analyst's open connection, held across every run below.
    ready, stop = tmp_path / "ready", tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(three_days.marts_db), str(ready), str(stop)],
        stdout=subprocess.PIPE,
        text=True,
    )
    for _ in range(100):
        if ready.exists():
            break
        time.sleep(0.2)

    # Faults for day 2: the ledger's file never came; the inventory snapshot quarantines a few
    # percent of its rows. And a raw phone number sits in a row of day 1's built marts: day
    # 1 was judged when it was published, so day 2's gates do not read it; the audit does.
    ledger_day = landing / "ledger" / day2
    saved = tmp_path / "saved"
    shutil.copytree(landing, saved)
    shutil.rmtree(ledger_day)
    spiky = Settings(home=tmp_path / "spiky")
    generate(
        spiky.landing,
        spiky.truth,
        GenerateRequest(start=date(2024, 6, 3), days=3, scale=0.03, anomalies=0.2),
    )
    shutil.rmtree(landing / "inventory" / day2)
    shutil.copytree(spiky.landing / "inventory" / day2, landing / "inventory" / day2)
    with duckdb.connect(str(three_days.build_db)) as con:
        con.execute(
            # fct_sales_margin is a view over this table in the build
            "update intermediate.int_margin__order_lines set trace_code = '13812345678' "
            "where rowid = (select min(rowid) from intermediate.int_margin__order_lines "
            "where business_date = ?)",
            [day1],
        )
    gated = yecai(home, "run", "--start", day2)
    assert gated.returncode == 1, gated.stderr
    assert "failed before publishing" in gated.stderr
    for gate, why in (
        ("gate_raw", "every business date delivered"),
        ("gate_raw", "quarantine rate"),
        ("gate_reconciliation", "revenue or COGS difference"),
    ):
        assert any(gate in line and why in line for line in gated.stderr.splitlines()), gated.stderr
    assert "gate_pii" not in gated.stderr
    assert any(
        line.startswith("gates") and "failed: gate_raw" in line
        for line in gated.stderr.splitlines()
    ), gated.stderr
    audit = yecai(home, "audit")
    assert audit.returncode == 1, audit.stdout + audit.stderr
    assert "gate_pii on marts/fct_sales_margin: no phone" in audit.stdout
    assert "13812345678" not in gated.stderr + audit.stdout + audit.stderr
    assert f"yecai --home {home} run --start {day2} --end {day2}" in gated.stderr
    assert three_days.marts_db.read_bytes() == published
    # logs/failed-runs.log says the same, with no daemon running; the daemon's failed-run
    # sensor, which sees every run, finds the line there and adds none.
    failed_runs = (three_days.logs / FAILED_RUNS_LOG).read_text(encoding="utf-8").splitlines()
    [failure] = failed_runs
    assert "(cli, 2024-06-04..2024-06-04)" in failure and "gate_reconciliation" in failure
    assert f"--start {day2} --end {day2}" in failure
    assert report_failure(three_days) == failure
    assert (three_days.logs / FAILED_RUNS_LOG).read_text(encoding="utf-8").splitlines() == [failure]

    # Bad input is exit 2: a file the source sent in GBK.
    bad = landing / "sales" / day3 / "kids_pos_20240605.csv"
    rows = bad.read_bytes().count(b"\n") - 1
    gbk = bad.read_bytes().decode().encode("gb18030")
    bad.write_bytes(gbk)
    write_control(bad, gbk, rows)
    broken = yecai(home, "run", "--start", day3)
    assert broken.returncode == 2, broken.stderr
    assert "kids_pos_20240605.csv" in broken.stderr and "not UTF-8" in broken.stderr
    assert three_days.marts_db.read_bytes() == published

    # Faults fixed: the sources re-deliver; day 1 is rebuilt with the days after it.
    shutil.rmtree(landing)
    shutil.copytree(saved, landing)
    fixed = yecai(home, "run", "--start", day1, "--end", day3)
    assert fixed.returncode == 0, fixed.stderr
    stop.write_text("stop")
    before, after = (int(n) for n in reader.communicate(timeout=60)[0].split())
    assert before == after  # the open connection kept reading its snapshot, without error
    with duckdb.connect(str(three_days.marts_db), read_only=True) as con:
        assert con.execute("select count(*) from fct_sales_margin").fetchall()[0][0] > before


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
    mistyped = home.with_name("hoem")
    nowhere = yecai(mistyped, "run", "--start", "2024-06-03")
    assert nowhere.returncode == 2, nowhere.stderr
    assert f"{mistyped} has no landing folder" in nowhere.stderr and "--home" in nowhere.stderr
    assert not mistyped.exists()  # nothing was started there


def test_sql_is_read_only_and_cannot_reach_files(tmp_path):
    settings = Settings(home=tmp_path / "home")
    settings.warehouse.mkdir(parents=True)
    with duckdb.connect(str(settings.marts_db)) as con:
        con.execute("create table fct_sales_margin as select 1 as x")
    write = yecai(settings.home, "sql", "drop table fct_sales_margin")
    assert write.returncode == 2 and "read-only" in write.stderr
    escape = yecai(settings.home, "sql", "select * from read_csv('/etc/hostname')")
    assert escape.returncode == 2 and "disabled by configuration" in escape.stderr
    outside = tmp_path / "outside.duckdb"
    for injected in (
        "select 1; drop table fct_sales_margin",
        "select 1; set enable_external_access = true",
        f"attach '{outside}' as outside",
        f"copy fct_sales_margin to '{tmp_path / 'out.csv'}'",
    ):
        refused = yecai(settings.home, "sql", injected)
        assert refused.returncode == 2, injected
        assert "Traceback" not in refused.stderr
    assert not outside.exists() and not (tmp_path / "out.csv").exists()
    ok = yecai(settings.home, "sql", "select x from fct_sales_margin", "--csv")
    assert ok.returncode == 0 and ok.stdout.split() == ["x", "1"]


def test_sql_errors_raised_while_fetching_are_one_line_and_nested_values_export(tmp_path):
    settings = Settings(home=tmp_path / "home")
    settings.warehouse.mkdir(parents=True)
    with duckdb.connect(str(settings.marts_db)) as con:
        con.execute("create table t as select * from (values ('1'), ('x')) v(code)")
    for failing in (
        "select cast(code as integer) from t",  # fails on the second row
        "select error('stop')",
        "select (select code from t)",  # a scalar subquery of two rows
    ):
        for extra in ((), ("--csv",)):
            result = yecai(settings.home, "sql", failing, *extra)
            assert result.returncode == 2, (failing, extra, result.stderr)
            assert result.stderr.startswith("query failed:"), result.stderr
            assert "Traceback" not in result.stderr
    nested = yecai(
        settings.home, "sql", "select [1, 2] as l, {'a': 1} as s, map([1], ['x']) as m", "--csv"
    )
    assert nested.returncode == 0, nested.stderr
    assert nested.stdout.splitlines() == ["l,s,m", "\"[1, 2]\",{'a': 1},{1=x}"]


@pytest.mark.reliability  # a whole run
def test_a_home_whose_path_holds_a_quote_runs(tmp_path):
    home = tmp_path / "o'brien's home"
    start = date(2024, 6, 3)
    settings = Settings(home=home)
    generate(settings.landing, settings.truth, GenerateRequest(start=start, days=1, scale=0.02))
    result = yecai(home, "run", "--start", start.isoformat())
    assert result.returncode == 0, result.stderr
    published = yecai(home, "sql", "select count(*) > 0 as loaded from fct_sales_margin", "--csv")
    assert published.stdout.split() == ["loaded", "true"]
    # The command yecai suggests after a failure can be pasted into a shell as it is.
    hint = rerun_hint(home, start, start).removeprefix("To re-run once fixed: ")
    assert shlex.split(hint)[2] == str(home)


def test_sql_shows_every_result_in_business_time_with_home_after_the_command(tmp_path):
    settings = Settings(home=tmp_path / "home")
    settings.warehouse.mkdir(parents=True)
    with duckdb.connect(str(settings.marts_db)) as con:
        con.execute("create table t as select timestamptz '2026-11-01 23:43:43+00' as order_ts")

    def sql(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [YECAI, "sql", "--home", str(settings.home), *args],
            env=yecai_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )

    both = sql("select order_ts from t; select 20 as twenty")
    assert both.returncode == 0, both.stderr
    assert "2026-11-02 07:43:43+08" in both.stdout and "twenty" in both.stdout
    utc = sql("--timezone", "UTC", "select order_ts from t")
    assert "2026-11-01 23:43:43+00" in utc.stdout
    unknown = sql("--timezone", "Mars/Olympus", "select 1")
    assert unknown.returncode == 2 and unknown.stderr.startswith("--timezone Mars/Olympus")
    one_csv = sql("--csv", "select 1; select 2")
    assert one_csv.returncode == 2 and "one statement" in one_csv.stderr
    locked = sql("set TimeZone = 'UTC'")
    assert locked.returncode == 2 and "locked" in locked.stderr
    version = subprocess.run([YECAI, "--version"], capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.startswith("yecai ")
