"""One writer on build.duckdb at a time, and retries for what is worth retrying.

DuckDB lets one process write a file, and an open reader blocks the writer too. Runs
launched from the UI, the schedule or the sensor wait in Dagster's run queue
(max_concurrent_runs: 1 in the home's dagster.yaml). ``yecai run`` executes in its own
process and so bypasses that queue: every step that touches build.duckdb therefore also
holds an OS file lock for the run (the ``writer`` resource), and a second run waits for it
instead of failing on DuckDB's lock. (A Dagster pool would not cover the CLI either: pools
are enforced by the run queue and the multiprocess executor.)

What still conflicts is a process outside yecai holding build.duckdb (a data engineer's
SQL client): that error is transient and the step retries with backoff.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import dagster as dg

from pipelines.warehouse_lock import dead_runs, run_alive, writer_lock

TRANSIENT_MARKERS = ("could not set lock on file", "conflicting lock is held")
RETRIES = 4
FIRST_WAIT_SECONDS = 5


class WarehouseWriter(dg.ConfigurableResource):
    """The lock on build.duckdb, held from the first step that needs it to the run's end
    (the in-process executor sets resources up once per run)."""

    warehouse: str

    @contextlib.contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext):
        holder = f"run {context.run_id}" if context.run_id else "a yecai step"
        warehouse = Path(self.warehouse)
        with (
            run_alive(warehouse, context.run_id) if context.run_id else contextlib.nullcontext(),
            writer_lock(warehouse, holder, context.log.warning),
        ):
            yield self


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


def is_transient(error: BaseException | str) -> bool:
    """A lock held by another process: worth waiting for. Anything else is not."""
    text = str(error).lower()
    return any(marker in text for marker in TRANSIENT_MARKERS)


@contextlib.contextmanager
def retry_if_transient(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext):
    """Turn a transient error into a Dagster retry after 5, 10, 20, 40 s; let the rest fail."""
    try:
        yield
    except dg.RetryRequested:
        raise
    except Exception as error:
        if not is_transient(error):
            raise
        wait = FIRST_WAIT_SECONDS * 2**context.op_execution_context.retry_number
        context.log.warning(f"transient: {error}; retrying in {wait} s")
        raise dg.RetryRequested(max_retries=RETRIES, seconds_to_wait=wait) from error
