"""`make bench`: end-to-end and per-phase cost of yecai at stated scales, written to
BENCHMARKS.md with the machine, the versions and the exact commands.

    .venv/bin/python -m bench.run [--cases day,month] [--output BENCHMARKS.md]

Each case generates its days into a fresh home (`yecai generate`), then runs them as one
`yecai run` (one Dagster run, one dbt invocation). Phase times are the run's Dagster step
durations; peak RSS is the largest of the run's processes (yecai, dbt), from the kernel's
accounting of reaped children (getrusage).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Case:
    name: str
    days: int
    scale: float


CASES = {
    "day": Case("1 day, scale 1", 1, 1.0),
    "month": Case("30 days, scale 1", 30, 1.0),
    "year": Case("365 days, scale 1", 365, 1.0),
}


@dataclass
class Result:
    case: Case
    sales_lines: int
    generate_seconds: float
    run_seconds: float
    phases: dict[str, float]
    peak_rss_mb: float
    commands: list[str]


def _yecai(home: Path, *args: str) -> list[str]:
    return [YECAI, "--home", str(home), *args]


# Runs a command and prints the peak RSS (KB) of its largest process, itself included.
MEASURE = (
    "import resource, subprocess, sys; "
    "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, "
    "stderr=subprocess.DEVNULL); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def _measured(command: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one command."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *command],
        check=True,
        env={**os.environ, "YECAI_PII_KEY": KEY},
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - started, int(done.stdout.split()[-1]) / 1024


def run_case(case: Case, root: Path) -> Result:
    home = root / case.name.replace(" ", "_").replace(",", "")
    last = FIRST + timedelta(days=case.days - 1)
    generate = _yecai(
        home,
        "generate",
        "--start",
        str(FIRST),
        "--days",
        str(case.days),
        "--scale",
        str(case.scale),
    )
    run = _yecai(home, "run", "--start", str(FIRST), "--end", str(last))
    generate_seconds, _ = _measured(generate)
    run_seconds, peak_rss_mb = _measured(run)
    settings = Settings(home=home, start_date=FIRST)
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        [record] = instance.get_run_records(limit=1)
        steps = instance.get_run_step_stats(record.dagster_run.run_id)
    phases = {
        phase: sum(s.end_time - s.start_time for s in steps if s.step_key.startswith(prefixes))
        for phase, prefixes in PHASES.items()
    }
    with duckdb.connect(str(settings.marts_db), read_only=True) as con:
        [(lines,)] = con.execute("select count(*) from fct_sales_margin").fetchall()
    return Result(
        case,
        lines,
        generate_seconds,
        run_seconds,
        phases,
        peak_rss_mb,
        [" ".join(generate[1:]), " ".join(run[1:])],
    )


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
        f"{p} {version(p)}" for p in ("dagster", "dbt-core", "dbt-duckdb", "duckdb", "polars")
    )
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory_gb:.0f} GB RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}; {packages}"
    )


def render(results: list[Result]) -> str:
    def rate(lines: int, seconds: float) -> str:
        return f"{lines / seconds:,.0f}/s" if seconds else "–"

    rows = [
        "| case | sales lines | generate | run (end to end) | ingest | dbt | gates | publish "
        "| reports | peak RSS |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        p = r.phases
        rows.append(
            f"| {r.case.name} | {r.sales_lines:,} | {r.generate_seconds:.1f} s "
            f"| {r.run_seconds:.1f} s ({rate(r.sales_lines, r.run_seconds)}) "
            f"| {p['ingest']:.1f} s ({rate(r.sales_lines, p['ingest'])}) "
            f"| {p['dbt']:.1f} s | {p['gates']:.1f} s | {p['publish']:.1f} s "
            f"| {p['report']:.1f} s | {r.peak_rss_mb:,.0f} MB |"
        )
    commands = "\n".join(f"yecai {c}" for r in results for c in r.commands)
    return f"""# Benchmarks

Written by `make bench` (`.venv/bin/python -m bench.run`) on {date.today()}.

**Machine:** {machine()}.

Each case: generate the days into a fresh home, then one `yecai run` over all of them (one
Dagster run, one dbt invocation). Phase times are the run's Dagster step durations
(ingest = the four sources; reports = daily report + dbt docs); the end-to-end time also
holds process start-up, definitions loading and dbt's parse. Rates are sales lines per
second. Peak RSS: the largest process of the run (yecai or dbt).

{chr(10).join(rows)}

Commands (home under a temporary directory, `$YECAI_PII_KEY` set):

```
{commands}
```

Not yet measured here (issue 7): 365 days and a ≥ 20 M-line run at scale 1, the
hand-written DuckDB floor, the one-day-at-365-vs-30-days ratio in this harness, gates vs
plain count queries, the pandas baseline, and the profile-and-fix record.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description="yecai benchmarks → BENCHMARKS.md")
    parser.add_argument("--cases", default="day,month", help=f"of {', '.join(CASES)}")
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="yecai-bench-") as root:
        for name in args.cases.split(","):
            results.append(run_case(CASES[name], Path(root)))
            print(f"{name}: run {results[-1].run_seconds:.1f} s", flush=True)
    args.output.write_text(render(results), encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
