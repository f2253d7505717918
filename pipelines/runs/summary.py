"""What a run did, in lines a person reads: failed steps and gates with their counts, and
how to run the same window again. Used by `yecai run` and the failed-run sensor."""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

from pipelines.settings import BUSINESS_TIMEZONE

# Metadata key of a step failure caused by bad input (a file that cannot be read): the
# run then exits 2, not 1.
BAD_INPUT_TAG = "yecai/bad_input"
# The asset that replaces marts.duckdb: a run that materialized it has published.
PUBLISHED_MARTS = dg.AssetKey(["published", "marts"])
# In the home's logs/: a line per failed run, however it was started.
FAILED_RUNS_LOG = "failed-runs.log"


def published(events: Iterable[dg.DagsterEvent]) -> bool:
    """Whether a run replaced marts.duckdb."""
    return any(
        event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
        and event.asset_key == PUBLISHED_MARTS
        for event in events
    )


def _root_cause(error) -> str:
    """The innermost error of a step failure: the part that says what went wrong."""
    while error.cause is not None:
        error = error.cause
    return f"{error.cls_name}: {error.message.strip()}"


def gate_lines(events: Iterable[dg.DagsterEvent], severity: dg.AssetCheckSeverity) -> list[str]:
    """One line per gate that failed with this severity: its asset and failed counts."""
    lines = []
    for event in events:
        if event.event_type != dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            continue
        evaluation = event.event_specific_data
        if evaluation.passed or evaluation.severity != severity:
            continue
        results = evaluation.metadata.get("results")
        failed = {
            label: {k: v for k, v in outcome.items() if k in ("unexpected_count", "observed")}
            for label, outcome in (results.value if results else {}).items()
            if not outcome.get("passed")
        }
        asset = "/".join(evaluation.asset_key.path)
        kind = "failed" if severity == dg.AssetCheckSeverity.ERROR else "warned"
        lines.append(f"gate {evaluation.check_name} on {asset} {kind}: {failed}")
    return lines


def failure_lines(events: Iterable[dg.DagsterEvent]) -> tuple[bool, list[str]]:
    """(bad input?, one line per failed step or error gate)."""
    events = list(events)
    bad_input, lines = False, gate_lines(events, dg.AssetCheckSeverity.ERROR)
    for event in events:
        if event.is_step_failure:
            data = event.event_specific_data
            user = getattr(data, "user_failure_data", None)
            if user is not None and BAD_INPUT_TAG in (user.metadata or {}):
                bad_input = True
                lines.append(f"{event.step_key}: {user.description}")
            elif "DagsterAssetCheckFailedError" not in (data.error.cls_name or ""):
                lines.append(f"{event.step_key} failed: {_root_cause(data.error)}")
    return bad_input, lines


def rerun_hint(home: Path, start: date | str, end: date | str) -> str:
    return (
        f"To re-run once fixed: yecai --home {shlex.quote(str(home))} run "
        f"--start {start} --end {end} "
        "(or re-execute the run in the Dagster UI)"
    )


def record_failed_run(
    logs: Path,
    home: Path,
    run_id: str,
    launched_by: str,
    window: tuple[date, date] | None,
    lines: list[str],
    fallback: str | None = None,
) -> str:
    """Append the run's line to logs/failed-runs.log, once per run: ``yecai run`` writes it
    and the daemon's failed-run sensor, which sees every run of the instance, then finds
    it there. The line, as written."""
    message = (
        f"{datetime.now(ZoneInfo(BUSINESS_TIMEZONE)):%Y-%m-%d %H:%M} run {run_id} "
        f"({launched_by}, {'..'.join(map(str, window)) if window else 'no partition'}) failed: "
        + ("; ".join(lines) or fallback or "see the run in the UI")
        + (". " + rerun_hint(home, *window) if window else "")
    )
    logs.mkdir(parents=True, exist_ok=True)
    path = logs / FAILED_RUNS_LOG
    if path.exists() and f" run {run_id} " in path.read_text(encoding="utf-8"):
        return message
    with path.open("a", encoding="utf-8") as log:
        log.write(message + "\n")
    return message
