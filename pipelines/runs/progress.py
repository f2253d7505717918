"""What `yecai run` shows while its run works: each phase (ingest, dbt, gates, publish,
reports) with its counts and elapsed time. On a terminal, a live display (rich); otherwise
(a log, CI, `-v` with Dagster's own output) one line per phase as it ends.

It listens to the run's events as Dagster stores them (``DagsterInstance.add_event_listener``:
the in-process executor stores every event in this process), so it shows what the run
did, not guesses: a source ingested, a dbt model materialized, a gate evaluated.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TextIO

import dagster as dg
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

# A step's phase, by its op's name (pipelines/defs builds them).
PHASE_OF_STEP = (
    ("ingest_", "ingest"),
    ("dbt_", "dbt"),
    ("gates", "gates"),
    ("published__", "publish"),
    ("reports__", "reports"),
)
# What a phase counts, in the order phases run: (name, what its unit is called).
PHASES = (
    ("ingest", "sources"),
    ("dbt", "models and seeds"),
    ("gates", "checks"),
    ("publish", "step"),
    ("reports", "reports"),
)


def phase_of(step_key: str) -> str | None:
    return next((phase for prefix, phase in PHASE_OF_STEP if step_key.startswith(prefix)), None)


@dataclass
class Phase:
    name: str
    unit: str
    total: int  # of the unit: sources, models, gate checks, steps, reports
    steps: int  # steps the phase runs
    done: int = 0
    steps_ended: int = 0
    failed: list[str] = field(default_factory=list)
    skipped: bool = False
    files: int = 0
    rows: int = 0
    tests: int = 0
    models_done: set[dg.AssetKey] = field(default_factory=set)
    sources_counted: set[dg.AssetKey] = field(default_factory=set)
    warned: int = 0
    started: float | None = None
    ended: float | None = None

    @property
    def elapsed(self) -> float:
        if self.started is None:
            return 0.0
        return (self.ended or time.monotonic()) - self.started

    def detail(self) -> str:
        """The counts beyond n/N: files and rows ingested, tests run, gates warned or failed."""
        parts = []
        if self.name == "ingest":
            parts.append(f"{self.files:,} files, {self.rows:,} rows")
        if self.tests:
            parts.append(f"{self.tests} tests")
        if self.warned:
            parts.append(f"{self.warned} warned")
        if self.failed:
            parts.append(f"failed: {', '.join(self.failed)}")
        if self.skipped:
            parts.append("skipped: an earlier phase failed")
        return "; ".join(parts)

    def line(self) -> str:
        detail = self.detail()
        return (
            f"{self.name:<8} {self.done}/{self.total} {self.unit}"
            + (f" ({detail})" if detail else "")
            + f"  {self.elapsed:.1f} s"
        )


def job_phases(assets: Iterable[dg.AssetsDefinition]) -> dict[str, Phase]:
    """Each phase with its totals, from the job's assets and checks (what its ops emit)."""
    phases = {name: Phase(name, unit, 0, 0) for name, unit in PHASES}
    for definition in assets:
        if not definition.is_executable:  # a source: nothing of the run's
            continue
        phase = phases.get(phase_of(definition.node_def.name) or "")
        if phase is None:
            continue
        phase.steps += 1
        if phase.name == "dbt":
            phase.total += len(definition.keys)
        elif phase.name == "gates":
            phase.total += len(definition.check_keys)
        else:
            phase.total += 1
    return {name: phase for name, phase in phases.items() if phase.steps}


class RunProgress:
    """A listener for one run's events (``instance.add_event_listener(run_id, progress)``)
    that shows its phases on ``stream``: live on a terminal, else a line per phase."""

    def __init__(self, phases: dict[str, Phase], stream: TextIO, *, live: bool):
        self.phases = phases
        self.stream = stream
        self.progress: Progress | None = None
        self.tasks: dict[str, int] = {}
        if live:
            self.progress = Progress(
                TextColumn("{task.fields[phase]:<8}"),
                BarColumn(bar_width=24),
                MofNCompleteColumn(),
                TextColumn("{task.fields[unit]}"),
                TimeElapsedColumn(),
                TextColumn("{task.fields[detail]}"),
                console=Console(file=stream),
                redirect_stdout=False,  # the run's own output goes to its log
                redirect_stderr=False,
                transient=False,
            )
            for name, phase in phases.items():
                self.tasks[name] = self.progress.add_task(
                    "", total=phase.total, start=False, phase=name, unit=phase.unit, detail=""
                )

    def __enter__(self) -> RunProgress:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc_info) -> None:
        if self.progress is not None:
            self.progress.stop()

    def __call__(self, entry) -> None:
        event: dg.DagsterEvent | None = entry.dagster_event
        if event is None or event.step_key is None:
            return
        phase = self.phases.get(phase_of(event.step_key) or "")
        if phase is None:
            return
        kind = event.event_type
        if kind == dg.DagsterEventType.STEP_START and phase.started is None:
            phase.started = time.monotonic()
            if self.progress is not None:
                self.progress.start_task(self.tasks[phase.name])
        elif kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
            self._materialized(phase, event)
        elif kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            self._evaluated(phase, event)
        elif kind in (
            dg.DagsterEventType.STEP_SUCCESS,
            dg.DagsterEventType.STEP_FAILURE,
            dg.DagsterEventType.STEP_SKIPPED,
        ):
            if kind == dg.DagsterEventType.STEP_FAILURE:
                phase.failed.append(event.step_key)
            elif kind == dg.DagsterEventType.STEP_SKIPPED:
                phase.skipped = True
            elif phase.name in ("ingest", "publish", "reports"):
                phase.done += 1
            phase.steps_ended += 1
            if phase.steps_ended == phase.steps:
                phase.ended = time.monotonic()
        else:
            return
        self._show(phase)

    def _materialized(self, phase: Phase, event: dg.DagsterEvent) -> None:
        if phase.name == "dbt":
            # A model of a window's run materializes once per day (partition) of it.
            phase.models_done.add(event.asset_key)
            phase.done = len(phase.models_done)
        elif phase.name == "ingest" and event.asset_key and event.asset_key.path[0] == "raw":
            # A window's step materializes its source once per day, each with the
            # window's counts: count them once.
            if event.asset_key in phase.sources_counted:
                return
            phase.sources_counted.add(event.asset_key)
            metadata = event.event_specific_data.materialization.metadata
            phase.files += sum(
                metadata[k].value for k in ("files_loaded", "files_unchanged") if k in metadata
            )
            phase.rows += metadata["rows_loaded"].value if "rows_loaded" in metadata else 0

    def _evaluated(self, phase: Phase, event: dg.DagsterEvent) -> None:
        evaluation = event.event_specific_data
        if phase.name == "dbt":
            phase.tests += 1
            return
        phase.done += 1
        if not evaluation.passed:
            if evaluation.severity == dg.AssetCheckSeverity.WARN:
                phase.warned += 1
            else:
                phase.failed.append(evaluation.check_name)

    def _show(self, phase: Phase) -> None:
        if self.progress is not None:
            self.progress.update(
                self.tasks[phase.name], completed=phase.done, detail=phase.detail()
            )
            if phase.ended is not None:
                self.progress.stop_task(self.tasks[phase.name])
        elif phase.ended is not None:
            print(phase.line(), file=self.stream, flush=True)
