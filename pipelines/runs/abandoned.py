"""Runs whose process died: marked failed, so they do not hold the run queue."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from pipelines.warehouse_lock import dead_runs


def fail_abandoned_runs(instance: dg.DagsterInstance, warehouse: Path) -> list[str]:
    """Mark failed the started runs whose process died (killed, out of memory, power cut):
    otherwise they stay "started" and hold the run queue. Returns their run ids."""
    started = instance.get_runs(
        filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING])
    )
    by_id = {run.run_id: run for run in started}
    dead = dead_runs(warehouse, list(by_id))
    for run_id in dead:
        instance.report_run_failed(
            by_id[run_id],
            message="the run's process died without finishing (killed, out of memory or a "
            "power cut). Nothing half-done was published; re-run its window.",
        )
    return dead
