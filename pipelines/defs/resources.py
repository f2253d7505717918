"""The resources yecai's assets ask for: the home's settings, and the lock that makes one
run at a time the writer of build.duckdb."""

from __future__ import annotations

import contextlib
from datetime import date
from pathlib import Path

import dagster as dg

from pipelines.settings import Settings
from pipelines.warehouse_lock import run_alive, writer_lock


class YecaiResource(dg.ConfigurableResource):
    """Paths under the home directory. The PII key is not configuration: it is read from
    $YECAI_PII_KEY when needed, so it never shows in the UI or a run's config."""

    home: str
    start_date: str
    demo: bool = False

    def settings(self) -> Settings:
        return Settings(
            home=Path(self.home), start_date=date.fromisoformat(self.start_date), demo=self.demo
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> YecaiResource:
        return cls(
            home=str(settings.home), start_date=settings.start_date.isoformat(), demo=settings.demo
        )


class BuildDbLock(dg.ConfigurableResource):
    """The writer lock on build.duckdb. Every step that touches build.duckdb asks for this
    resource only to hold it: the in-process executor sets a run's resources up once, so
    the lock is taken at the first such step and held to the run's end.

    DuckDB lets one process write a file, and an open reader blocks the writer too. Runs
    launched from the UI, the schedule or the sensor wait in Dagster's run queue
    (max_concurrent_runs: 1 in the home's dagster.yaml); ``yecai run`` executes in its own
    process and so bypasses that queue, hence the OS lock (pipelines/warehouse_lock.py),
    which the CLI, backups and restores take too. A Dagster pool would not cover the CLI:
    pools are enforced by the run queue and the multiprocess executor. The run also holds
    a liveness lock, so a run whose process died is told from a slow one.
    """

    warehouse: str

    @contextlib.contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext):
        run_id = context.run.run_id if context.run else None
        warehouse = Path(self.warehouse)
        with (
            run_alive(warehouse, run_id) if run_id else contextlib.nullcontext(),
            writer_lock(
                warehouse, f"run {run_id}" if run_id else "a yecai step", context.log.warning
            ),
        ):
            yield self
