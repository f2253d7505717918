"""`make bench`: what yecai costs at stated scales, side by side with the DuckDB floor and a
pandas baseline, written to BENCHMARKS.md with the machine, the versions and the commands.

    .venv/bin/python -m bench.run [--cases day,month,year,large] [--output BENCHMARKS.md]

Each case generates its days into a fresh home (`yecai generate`) and runs them as one
`yecai run` (one Dagster run, one dbt invocation): wall time end to end and per phase
(the run's Dagster steps), rows per second, and peak memory (the resident memory of the
run's whole process tree, sampled every 0.2 s, attributed to the phase running then).
Cases marked so then run the next business date alone (the nightly partition), compute
the same marts with the DuckDB floor (bench/floor.py) and fct_margin_daily in pandas
(bench/pandas_margin.py), each in its own process.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib.metadata import version
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.settings import REPO_ROOT, Settings

YECAI = str(Path(sys.executable).with_name("yecai"))
KEY = "bench-key-0123456789abcdef-not-for-production"
FIRST = date(2024, 1, 1)
PHASES = {
    "ingest": ("ingest_",),
    "dbt": ("dbt_warehouse",),
    "gates": ("gates",),
    "publish": ("published__marts",),
    "report": ("reports__daily", "reports__dbt_docs"),
}
PROFILE = Path(__file__).with_name("PROFILE.md")
TARGETS = {
    "floor_factor": 2.0,  # 365-day backfill <= 2 x floor + fixed overhead
    "floor_overhead_seconds": 30.0,
    "incremental_ratio": 1.3,  # nightly at 365 days of history / at 30 days
    "ingest_rows_per_core": 1_000_000,
    "gates_ratio": 2.0,  # gates / their plain SQL count queries
    "peak_gb": 4.0,
}


@dataclass(frozen=True)
class Case:
    key: str
    name: str
    days: int
    scale: float
    nightly: bool = False  # also time the next business date alone
    floor: bool = False  # also compute the marts by hand in DuckDB (bench/floor.py)
    pandas: bool = False  # also compute fct_margin_daily in pandas (bench/pandas_margin.py)


CASES = {
    "day": Case("day", "1 day, scale 1", 1, 1.0),
    "month": Case("month", "30 days, scale 1", 30, 1.0, nightly=True),
    "year": Case("year", "365 days, scale 1", 365, 1.0, nightly=True, floor=True, pandas=True),
    "large": Case("large", "365 days, scale 6", 365, 6.0, floor=True),
}


@dataclass
class Measured:
    seconds: float
    peak_mb: float
    phases: dict[str, float] = field(default_factory=dict)  # phase → seconds
    phase_peak_mb: dict[str, float] = field(default_factory=dict)
    output: str = ""


@dataclass
class Result:
    case: Case
    sales_lines: int
    rows_ingested: int
    generate: Measured
    run: Measured
    commands: list[str]
    nightly: Measured | None = None
    floor: dict | None = None
    pandas: dict | None = None


def _env() -> dict[str, str]:
    return {**os.environ, "YECAI_PII_KEY": KEY}


class TreeSampler:
    """Samples the resident memory of a process and all its descendants."""

    def __init__(self, pid: int, interval: float = 0.2):
        self.pid = pid
        self.interval = interval
        self.samples: list[tuple[float, float]] = []  # (epoch seconds, MB)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tree(self) -> list[int]:
        pids, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            for task in Path(f"/proc/{pid}/task").glob("*/children"):
                with contextlib.suppress(OSError):  # the process ended meanwhile
                    todo.extend(int(c) for c in task.read_text().split())
        return pids

    def _rss_mb(self) -> float:
        total = 0
        for pid in self._tree():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        return total / 1024

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.time(), self._rss_mb()))
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, start: float = 0.0, end: float = float("inf")) -> float:
        return max((mb for t, mb in self.samples if start <= t <= end), default=0.0)


def measured(command: list[str]) -> Measured:
    """Wall time and peak memory (process tree) of one command."""
    started = time.perf_counter()
    with (
        subprocess.Popen(
            command, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        ) as process,
        TreeSampler(process.pid) as sampler,
    ):
        output, _ = process.communicate()
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}:\n{output[-3000:]}")
    result = Measured(seconds=seconds, peak_mb=sampler.peak(), output=output)
    result._sampler = sampler  # type: ignore[attr-defined]
    return result


def _yecai(home: Path, *args: str) -> list[str]:
    return [YECAI, "--home", str(home), *args]


def run_phases(settings: Settings, run: Measured) -> None:
    """Phase times and peaks of the home's latest Dagster run."""
    sampler: TreeSampler = run._sampler  # type: ignore[attr-defined]
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        [record] = instance.get_run_records(limit=1)
        steps = instance.get_run_step_stats(record.dagster_run.run_id)
    for phase, prefixes in PHASES.items():
        mine = [s for s in steps if s.step_key.startswith(prefixes)]
        run.phases[phase] = sum(s.end_time - s.start_time for s in mine)
        run.phase_peak_mb[phase] = max(
            (sampler.peak(s.start_time, s.end_time) for s in mine), default=0.0
        )
    run.phases["overhead"] = run.seconds - sum(run.phases.values())


def _counts(settings: Settings) -> tuple[int, int]:
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        [(lines,)] = con.execute("select count(*) from marts.fct_sales_margin").fetchall()
        [(rows,)] = con.execute(
            "select sum(rows_read) from audit.ingest_files where status = 'LOADED'"
        ).fetchall()
    return lines, int(rows or 0)


def _json_of(command: list[str]) -> tuple[dict, Measured]:
    run = measured(command)
    return json.loads(run.output.strip().splitlines()[-1]), run


def run_case(case: Case, root: Path) -> Result:
    home = root / case.key
    settings = Settings(home=home, start_date=FIRST)
    last = FIRST + timedelta(days=case.days - 1)
    generated_days = case.days + (1 if case.nightly else 0)
    generate = _yecai(
        home, "generate", "--start", str(FIRST), "--days", str(generated_days),
        "--scale", str(case.scale),
    )  # fmt: skip
    backfill = _yecai(home, "run", "--start", str(FIRST), "--end", str(last))
    commands = [generate, backfill]
    print(f"{case.name}: generating", flush=True)
    generated = measured(generate)
    print(f"{case.name}: running {FIRST}..{last}", flush=True)
    run = measured(backfill)
    run_phases(settings, run)
    lines, rows = _counts(settings)
    result = Result(case, lines, rows, generated, run, [" ".join(c[1:]) for c in commands])
    if case.floor:
        window = ["--start", str(FIRST), "--end", str(last)]
        print(f"{case.name}: floor", flush=True)
        floor_command = [sys.executable, "-m", "bench.floor", "--home", str(home), *window]
        result.floor, floor_run = _json_of(floor_command)
        result.floor["peak_mb"] = floor_run.peak_mb
        result.commands.append(" ".join(floor_command[1:]))
    if case.pandas:
        print(f"{case.name}: pandas", flush=True)
        pandas_command = [sys.executable, "-m", "bench.pandas_margin", "--home", str(home)]
        result.pandas, pandas_run = _json_of(pandas_command)
        result.pandas["peak_mb"] = pandas_run.peak_mb
        result.commands.append(" ".join(pandas_command[1:]))
    if case.nightly:
        night = last + timedelta(days=1)
        nightly = _yecai(home, "run", "--start", str(night))
        print(f"{case.name}: nightly {night}", flush=True)
        result.nightly = measured(nightly)
        run_phases(settings, result.nightly)
        result.commands.append(" ".join(nightly[1:]))
    return result


# ---------------------------------------------------------------- rendering ----------


def machine() -> str:
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    packages = ", ".join(
        f"{p} {version(p)}"
        for p in ("dagster", "dbt-core", "dbt-duckdb", "duckdb", "polars", "great-expectations")
    )
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory_gb:.0f} GB RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}; {packages}"
    )


def commit() -> str:
    found = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    return found.stdout.strip() or "unknown"


def _s(seconds: float) -> str:
    return f"{seconds:,.1f} s"


def _rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}/s" if seconds else "–"


def _gb(mb: float) -> str:
    return f"{mb / 1024:.2f} GB"


def _table(header: list[str], rows: list[list[str]], text_columns: int = 1) -> str:
    """A Markdown table: the first ``text_columns`` columns left-aligned, figures right."""
    align = ["---"] * text_columns + ["---:"] * (len(header) - text_columns)
    return "\n".join(f"| {' | '.join(cells)} |" for cells in [header, align, *rows])


def results_table(results: list[Result]) -> str:
    header = [
        "case", "sales lines", "rows ingested", "generate", "run end to end", "ingest", "dbt",
        "gates", "publish", "reports", "Dagster and start-up", "peak memory",
    ]  # fmt: skip
    rows = []
    for r in results:
        p, m = r.run.phases, r.run.phase_peak_mb
        rows.append(
            [
                r.case.name,
                f"{r.sales_lines:,}",
                f"{r.rows_ingested:,}",
                f"{_s(r.generate.seconds)} ({_gb(r.generate.peak_mb)})",
                f"{_s(r.run.seconds)} ({_rate(r.sales_lines, r.run.seconds)} lines)",
                f"{_s(p['ingest'])} ({_rate(r.rows_ingested, p['ingest'])}; {_gb(m['ingest'])})",
                f"{_s(p['dbt'])} ({_gb(m['dbt'])})",
                f"{_s(p['gates'])} ({_gb(m['gates'])})",
                _s(p["publish"]),
                _s(p["report"]),
                _s(p["overhead"]),
                _gb(r.run.peak_mb),
            ]
        )
    return _table(header, rows)


def floor_table(results: list[Result]) -> str:
    rows = []
    for r in results:
        if not r.floor:
            continue
        for phase in ("ingest", "dbt", "gates", "publish"):
            ours, floor = r.run.phases[phase], r.floor["phases"][phase]
            rows.append([r.case.name, phase, _s(ours), _s(floor), f"{ours / floor:.2f}×"])
        total = sum(r.floor["phases"].values())
        rows.append(
            [
                r.case.name,
                "**end to end**",
                f"**{_s(r.run.seconds)}**",
                f"**{_s(total)}**",
                f"**{r.run.seconds / total:.2f}×**",
            ]
        )
    return _table(["case", "phase", "pipeline", "floor", "pipeline ÷ floor"], rows, 2)


def verdicts(results: list[Result]) -> list[str]:
    """Each target of issue 7, met or not, with the figures."""
    by = {r.case.key: r for r in results}
    lines = []

    def say(met: bool, text: str) -> None:
        lines.append(f"- {'**met**' if met else '**not met**'}: {text}")

    if (year := by.get("year")) and year.floor:
        floor = sum(year.floor["phases"].values())
        limit = TARGETS["floor_factor"] * floor + TARGETS["floor_overhead_seconds"]
        say(
            year.run.seconds <= limit,
            f"365-day backfill {_s(year.run.seconds)} ≤ 2 × floor {_s(floor)} + 30 s = {_s(limit)}",
        )
    if (year := by.get("year")) and (month := by.get("month")) and year.nightly and month.nightly:
        ratio = year.nightly.seconds / month.nightly.seconds
        say(
            ratio <= TARGETS["incremental_ratio"],
            f"one nightly partition with 365 days of history {_s(year.nightly.seconds)} ÷ with "
            f"30 days {_s(month.nightly.seconds)} = {ratio:.2f} (≤ 1.3); dbt alone "
            f"{year.nightly.phases['dbt'] / month.nightly.phases['dbt']:.2f}",
        )
    cores = os.cpu_count() or 1
    for r in results:
        if r.case.key in ("year", "large"):
            per_core = r.rows_ingested / r.run.phases["ingest"] / cores
            say(
                per_core >= TARGETS["ingest_rows_per_core"],
                f"ingestion ({r.case.name}) {per_core:,.0f} rows/s per core, every contract "
                f"check and tokenisation included (≥ 1,000,000)",
            )
    for r in results:
        if r.floor:
            ratio = r.run.phases["gates"] / r.floor["phases"]["gates"]
            say(
                ratio <= TARGETS["gates_ratio"],
                f"gates ({r.case.name}) {_s(r.run.phases['gates'])} ÷ the same checks as "
                f"plain SQL counts {_s(r.floor['phases']['gates'])} = {ratio:.2f} (≤ 2)",
            )
    largest = max(results, key=lambda r: r.sales_lines)
    say(
        largest.run.peak_mb / 1024 <= TARGETS["peak_gb"],
        f"peak memory at the largest scale ({largest.case.name}, {largest.sales_lines:,} sales "
        f"lines): {_gb(largest.run.peak_mb)} for the whole process tree (≤ 4 GB)",
    )
    for r in results:
        if r.floor:
            equal = [t for t, same in r.floor["marts_equal"].items() if same]
            differ = [t for t, same in r.floor["marts_equal"].items() if not same]
            lines.append(
                f"- floor ({r.case.name}): {len(equal)} of {len(r.floor['marts_equal'])} "
                f"published marts equal row for row"
                + (f"; differ: {', '.join(differ)}" if differ else "")
            )
    return lines


def pandas_table(results: list[Result]) -> str:
    header = [
        "case", "pandas fct_margin_daily", "its peak memory", "yecai's dbt phase (every mart)",
        "floor, every mart", "pandas ÷ floor", "off from the published mart",
    ]  # fmt: skip
    rows = []
    for r in results:
        if not r.pandas:
            continue
        pd_, floor = r.pandas, r.floor["phases"]["dbt"]
        rows.append(
            [
                r.case.name,
                _s(pd_["seconds"]),
                _gb(pd_["peak_mb"]),
                _s(r.run.phases["dbt"]),
                _s(floor),
                f"{pd_['seconds'] / floor:.2f}×",
                f"{pd_['rows_only_in_pandas'] + pd_['rows_only_published']} rows missing; "
                f"contribution margin up to CNY {pd_['max_contribution_margin_difference']:,}",
            ]
        )
    return _table(header, rows)


def nightly_table(results: list[Result]) -> str:
    header = [
        "history", "nightly run end to end", "ingest", "dbt", "gates", "publish", "reports",
        "Dagster and start-up",
    ]  # fmt: skip
    rows = [
        [r.case.name, _s(r.nightly.seconds)]
        + [_s(r.nightly.phases[p]) for p in ("ingest", "dbt", "gates", "publish", "report")]
        + [_s(r.nightly.phases["overhead"])]
        for r in results
        if r.nightly
    ]
    return _table(header, rows)


def render(results: list[Result], command: str) -> str:
    commands = "\n".join(f"yecai {c}" if not c.startswith("-m") else f"python {c}"
                         for r in results for c in r.commands)  # fmt: skip
    profile = PROFILE.read_text(encoding="utf-8") if PROFILE.exists() else ""
    return f"""# Benchmarks

Written by `{command}` on {date.today()} at commit `{commit()}`. `make bench` runs every
case (about an hour here); `make bench CASES=day,month` a subset.

**Machine:** {machine()}.

Each case generates its days into a fresh home, then runs them as one `yecai run` (one
Dagster run, one dbt invocation), as a backfill would. Phase times are the run's Dagster
step durations (ingest: the four sources; reports: the daily reports and dbt docs);
"Dagster and start-up" is the rest of the end-to-end time: process start, definitions,
creating the run and recording its events. Peak memory is the resident memory of the
whole process tree (yecai, dbt), sampled every 0.2 s. Rows ingested counts every source
(sales, inventory, consultations, ledger).

## Targets

{chr(10).join(verdicts(results))}

## End to end and per phase

{results_table(results)}

## Against the DuckDB floor

The floor computes the same marts in one DuckDB process by hand (`bench/floor.sql`, run by
`bench/floor.py`): ingest = landing files cast and hashed by DuckDB into a Parquet lake (no
row checks, no quarantine, no audit); dbt = every mart from the raw lake in one script;
gates = every expectation of the run's gate suites as the plain SQL count it stands for;
publish = the marts copied into a new file. Each floor mart is compared with the published
one row for row.

{floor_table(results)}

## One nightly partition

The business date after the backfill, run alone on the home the backfill left.

{nightly_table(results)}

## Peer baseline: pandas

`bench/pandas_margin.py`: fct_margin_daily as analysts write it today, in pandas from the
same raw lake (whole tables in memory, money as floats, marketing rounded per line).

{pandas_table(results)}

## Commands

Home under a temporary directory, `$YECAI_PII_KEY` set:

```
{commands}
```

{profile}"""


def main() -> None:
    parser = argparse.ArgumentParser(description="yecai benchmarks → BENCHMARKS.md")
    parser.add_argument("--cases", default="day,month,year,large", help=f"of {', '.join(CASES)}")
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="yecai-bench-") as root:
        for name in args.cases.split(","):
            results.append(run_case(CASES[name], Path(root)))
            print(f"{name}: run {results[-1].run.seconds:.1f} s", flush=True)
    command = "make bench" + (
        f" CASES={args.cases}" if args.cases != parser.get_default("cases") else ""
    )
    args.output.write_text(render(results, command), encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
