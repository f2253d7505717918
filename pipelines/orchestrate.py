"""Run the main job for a window of business dates, in this process, on the home's instance.

``yecai run`` and ``yecai demo`` come through here, so a CLI run is the same Dagster run a
data engineer sees (and can re-run) in the UI. The outcome maps to the CLI's exit codes:
0 published, 1 the run failed before publishing (a gate or a build step), 2 bad input.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import sqlalchemy.exc

from pipelines.definitions import MAIN_JOB, build_definitions
from pipelines.ingest.audit import recorded_key_matches
from pipelines.pii import key_mismatch, resolve_key
from pipelines.runs.abandoned import fail_abandoned_runs
from pipelines.runs.instance import ensure_instance_home
from pipelines.runs.progress import RunProgress, job_phases
from pipelines.runs.summary import (
    failure_lines,
    gate_lines,
    published,
    record_failed_run,
    rerun_hint,
)
from pipelines.runs.tags import LAUNCHED_BY_TAG, window_tags
from pipelines.settings import BUSINESS_TIMEZONE, HomeDamaged, Settings
from pipelines.transform.dbt_project import prepare_manifest
from pipelines.warehouse_lock import writer_lock

EXIT_PUBLISHED, EXIT_NOT_PUBLISHED, EXIT_BAD_INPUT = 0, 1, 2


@dataclass
class RunOutcome:
    exit_code: int
    message: str
    run_id: str | None = None
    details: list[str] = field(default_factory=list)


def yesterday() -> date:
    return datetime.now(ZoneInfo(BUSINESS_TIMEZONE)).date() - timedelta(days=1)


def check_window(settings: Settings, start: date, end: date) -> str | None:
    """A usage problem with the window, or None."""
    if end < start:
        return f"--end {end} is before --start {start}"
    if start < settings.start_date:
        return (
            f"--start {start} is before the first partition {settings.start_date}; set "
            "--start-date / $YECAI_START_DATE earlier to load older history"
        )
    if end > yesterday():
        return f"--end {end} is in the future: the latest business date is {yesterday()}"
    return None


def window_text(start: date, end: date) -> str:
    return f"{start}..{end}" if start != end else f"{start}"


def _note(message: str) -> None:
    print(f"yecai: {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def open_instance(settings: Settings):
    """The home's Dagster instance; a damaged history file is named, with the way out."""
    try:
        instance = dg.DagsterInstance.from_config(str(settings.dagster_home))
    except (sqlite3.DatabaseError, sqlalchemy.exc.DatabaseError) as exc:
        raise HomeDamaged(
            f"Dagster's run history under {settings.dagster_home / 'history'} cannot be "
            f"opened ({type(exc).__name__}: the file is damaged or not a database). Move that "
            "folder aside and run again: the run history starts anew, the warehouse, lake "
            "and published marts are untouched"
        ) from exc
    with instance:
        yield instance


def _execute(
    job: dg.JobDefinition, instance: dg.DagsterInstance, tags: dict, log_path: Path, verbose: bool
) -> dg.ExecuteInProcessResult:
    """The run, in this process; its output goes to the run's log unless verbose. Its
    phases show on the terminal as they go (live there, a line each otherwise)."""
    run_id = str(uuid.uuid4())
    terminal = sys.stderr
    progress = RunProgress(
        job_phases(job.asset_layer.asset_graph.assets_defs),
        terminal,
        live=terminal.isatty() and not verbose,  # -v: Dagster's output shares the terminal
    )
    instance.add_event_listener(run_id, progress)
    with (
        open(log_path, "w", encoding="utf-8") as log_file,
        progress,
        contextlib.nullcontext() if verbose else contextlib.redirect_stdout(log_file),
        contextlib.nullcontext() if verbose else contextlib.redirect_stderr(log_file),
    ):
        return job.execute_in_process(
            instance=instance,
            run_id=run_id,
            tags=tags,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        )


def check_home(settings: Settings) -> str | None:
    """A problem with the home that no run can get past, or None."""
    if not settings.landing.is_dir():  # a mistyped --home: said before any work
        return (
            f"{settings.home} has no landing folder ({settings.landing} does not exist), where "
            "the sources deliver their extracts: check --home or $YECAI_HOME (`yecai "
            "generate` writes sample data there)"
        )
    if settings.build_db.exists():
        key = resolve_key(settings.demo, announce=False)
        if recorded_key_matches(settings.build_db, key) is False:
            return str(key_mismatch(str(settings.home)))
    return None


def run_window(settings: Settings, start: date, end: date, *, verbose: bool = False) -> RunOutcome:
    problem = check_window(settings, start, end) or check_home(settings)
    if problem:
        return RunOutcome(EXIT_BAD_INPUT, problem)
    settings.export_env()
    ensure_instance_home(settings)
    prepare_manifest()
    job = build_definitions(settings).resolve_job_def(MAIN_JOB)
    tags = {**window_tags(start, end), LAUNCHED_BY_TAG: "cli"}
    settings.logs.mkdir(parents=True, exist_ok=True)
    # Two runs started in the same second get their own logs.
    log_path = settings.logs / f"run-{datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}-{start}-{end}.log"
    with (
        # Taken here, before the run, so a waiting run says so on the terminal.
        writer_lock(settings.warehouse, f"yecai run {window_text(start, end)}", _note),
        open_instance(settings) as instance,
    ):
        for run_id in fail_abandoned_runs(instance, settings.warehouse):
            _note(f"run {run_id} had died unfinished; marked failed")
        result = _execute(job, instance, tags, log_path, verbose)
    window = window_text(start, end)
    if result.success:
        return RunOutcome(
            EXIT_PUBLISHED,
            f"published {settings.marts_db} for {window} (run {result.run_id}, log {log_path})",
            result.run_id,
            gate_lines(result.all_events, dg.AssetCheckSeverity.WARN),
        )
    bad_input, lines = failure_lines(result.all_events)
    # Without the daemon no sensor sees this run: the failed-runs log gets its line here.
    record_failed_run(settings.logs, settings.home, result.run_id, "cli", (start, end), lines)
    if published(result.all_events):
        headline = f"published {settings.marts_db} for {window}, but a step after publishing failed"
    elif bad_input:
        headline = f"bad input for {window}: nothing published; fix the files below"
    else:
        headline = f"run for {window} failed before publishing: analysts keep the last good marts"
    return RunOutcome(
        EXIT_BAD_INPUT if bad_input else EXIT_NOT_PUBLISHED,
        f"{headline} (run {result.run_id}, log {log_path}). "
        + rerun_hint(settings.home, start, end),
        result.run_id,
        lines,
    )
