"""Measuring a benchmark case: generate into a fresh home, run it as one `yecai run`, and
time every phase with the peak memory of the run's whole process tree."""

from __future__ import annotations

import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.generate.truth import IdentityQuality, identity_quality
from pipelines.settings import DEFAULT_IDENTITY_NOISE, Settings

YECAI = str(Path(sys.executable).with_name("yecai"))
KEY = "bench-key-0123456789abcdef-not-for-production"
FIRST = date(2024, 1, 1)
NIGHTS = 3  # consecutive nightlies after a backfill: their median is the nightly's time
PHASES = {
    "ingest": ("ingest_",),
    "dbt": ("dbt_warehouse",),
    "gates": ("gates",),
    "publish": ("published__marts",),
    "report": ("reports__daily", "reports__dbt_docs"),
}


@dataclass(frozen=True)
class Case:
    key: str
    name: str
    days: int
    scale: float
    nightly: bool = False  # also time the next NIGHTS business dates, each alone
    floor: bool = False  # also compute the marts by hand in DuckDB (bench/floor.py)
    pandas: bool = False  # also compute fct_margin_daily in pandas (bench/pandas_margin.py)
    first: date = FIRST  # first business date (years of history must end before today)
    identity_noise: float = DEFAULT_IDENTITY_NOISE  # dirty identifiers, as real extracts


CASES = {
    "day": Case("day", "1 day, scale 1", 1, 1.0),
    "month": Case("month", "30 days, scale 1", 30, 1.0, nightly=True),
    "year": Case("year", "365 days, scale 1", 365, 1.0, nightly=True, floor=True, pandas=True),
    "large": Case("large", "365 days, scale 6", 365, 6.0, floor=True),
    # A nightly after years of history against one after a month, at one scale.
    "month_half": Case("month_half", "30 days, scale 0.5", 30, 0.5, nightly=True),
    "years": Case("years", "3 years, scale 0.5", 1096, 0.5, nightly=True, first=date(2023, 1, 1)),
    # Identity resolution on dirty identifiers (every case has the default noise), against
    # the truth, at a scale where families sharing a phone are many.
    "identity": Case("identity", "90 days, scale 0.2", 90, 0.2),
}  # fmt: skip


@dataclass
class Measured:
    seconds: float
    peak_mb: float
    phases: dict[str, float] = field(default_factory=dict)  # phase → seconds
    phase_peak_mb: dict[str, float] = field(default_factory=dict)
    output: str = ""
    identity_s: float = 0.0  # dbt's time in the identity models (int_/stg_identity__*)
    models_s: float = 0.0  # dbt's time in every model


@dataclass
class Result:
    case: Case
    sales_lines: int
    rows_ingested: int
    generate: Measured
    run: Measured
    commands: list[str]
    identity: IdentityQuality
    nightly: Measured | None = None  # the typical night of `nights`
    nights: list[Measured] = field(default_factory=list)
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


def _yecai(home: Path, first: date, *args: str) -> list[str]:
    return [YECAI, "--home", str(home), "--start-date", str(first), *args]


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
    run.identity_s, run.models_s = _model_seconds(
        settings.dbt_target / record.dagster_run.run_id / "run_results.json"
    )


IDENTITY_MODELS = re.compile(
    r"^model\.yecai\.(int_identity__|stg_identity__|identity_review_queue)"
)


def _model_seconds(run_results: Path) -> tuple[float, float]:
    """(identity models, every model): dbt's execution time in them, from run_results."""
    if not run_results.exists():
        return 0.0, 0.0
    results = json.loads(run_results.read_text(encoding="utf-8"))["results"]
    models = [r for r in results if r["unique_id"].startswith("model.")]
    identity = sum(r["execution_time"] for r in models if IDENTITY_MODELS.match(r["unique_id"]))
    return identity, sum(r["execution_time"] for r in models)


def typical_night(nights: list[Measured]) -> Measured:
    """The median of each time over consecutive nightlies (this VM's timings vary by a
    third from one run to the next), and the highest peak memory."""
    return Measured(
        seconds=statistics.median(n.seconds for n in nights),
        peak_mb=max(n.peak_mb for n in nights),
        phases={p: statistics.median(n.phases[p] for n in nights) for p in nights[0].phases},
        phase_peak_mb={p: max(n.phase_peak_mb[p] for n in nights) for p in nights[0].phase_peak_mb},
        identity_s=statistics.median(n.identity_s for n in nights),
        models_s=statistics.median(n.models_s for n in nights),
    )


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
    home, first = root / case.key, case.first
    settings = Settings(home=home, start_date=first)
    last = first + timedelta(days=case.days - 1)
    generated_days = case.days + (NIGHTS if case.nightly else 0)
    generate = _yecai(
        home, first, "generate", "--start", str(first), "--days", str(generated_days),
        "--scale", str(case.scale), "--identity-noise", str(case.identity_noise),
    )  # fmt: skip
    backfill = _yecai(home, first, "run", "--start", str(first), "--end", str(last))
    commands = [generate, backfill]
    print(f"{case.name}: generating", flush=True)
    generated = measured(generate)
    print(f"{case.name}: running {first}..{last}", flush=True)
    run = measured(backfill)
    run_phases(settings, run)
    lines, rows = _counts(settings)
    identity = identity_quality(settings.build_db, settings.truth)
    result = Result(
        case, lines, rows, generated, run, [" ".join(c[1:]) for c in commands], identity
    )
    if case.floor:
        window = ["--start", str(first), "--end", str(last)]
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
    return result


def run_night(result: Result, root: Path, offset: int) -> None:
    """The business date `offset` days after the case's backfill, run alone (a nightly
    partition), added to the result's nights."""
    case = result.case
    home, first = root / case.key, case.first
    night = first + timedelta(days=case.days - 1 + offset)
    nightly = _yecai(home, first, "run", "--start", str(night))
    print(f"{case.name}: nightly {night}", flush=True)
    result.nights.append(measured(nightly))
    run_phases(Settings(home=home, start_date=first), result.nights[-1])
    result.commands.append(" ".join(nightly[1:]))
    result.nightly = typical_night(result.nights)
