"""The Dagster instance of a home: its dagster.yaml, and an event log that keeps up with
single-run backfills.

A run over a range of business dates records, per asset and per date, a planned event
and a materialization (that is how the UI knows which dates are materialized, in
progress or failed). Dagster's SQLite event log stores each event in its own
transactions on two database files: about 10 ms an event here, so a 365-day backfill of
the ~45 assets spent ~300 s on bookkeeping alone. Dagster already hands those events over
in batches (``DAGSTER_EVENT_BATCH_SIZE``), but its SQLite storage writes a batch one event
at a time. :class:`BatchedSqliteEventLogStorage` writes each batch of asset events in one
transaction per file, doing for every event exactly what
``SqliteEventLogStorage.store_event`` does (a test compares both storages' tables).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from dagster._config import Field, StringSource
from dagster._core.events import ASSET_CHECK_EVENTS, ASSET_EVENTS
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._serdes import ConfigurableClassData

from pipelines.settings import Settings

# Events Dagster buffers before handing them to the storage (per asset of a range run, and
# the planned events of a run, come in one batch each).
EVENT_BATCH_SIZE = 1000
YECAI_HEADER = "# Written by yecai for this home"
DAGSTER_YAML = """\
{header}: rewritten when it differs; remove this line to keep your own.
# Runs queue one at a time: only one writes build.duckdb.
telemetry:
  enabled: false
nux:
  enabled: false
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 1
# Dagster's SQLite event log, writing each batch of asset events in one transaction.
event_log_storage:
  module: pipelines.instance
  class: BatchedSqliteEventLogStorage
  config:
    base_dir: {event_log_dir}
"""


class BatchedSqliteEventLogStorage(SqliteEventLogStorage):
    """SQLite event log storage that stores a batch of asset events in one transaction."""

    @classmethod
    def config_type(cls) -> dict[str, Field]:
        return {"base_dir": Field(StringSource)}

    @classmethod
    def from_config_value(  # ty: ignore[invalid-method-override]
        cls, inst_data: ConfigurableClassData | None, config_value: dict[str, Any]
    ) -> BatchedSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        if not _is_asset_event_batch(events):
            super().store_event_batch(events)  # one event at a time, as Dagster does
            return
        rows = [self._event_to_row(event) for event in events]
        with self.run_connection(events[0].run_id) as conn:
            conn.execute(SqlEventLogStorageTable.insert(), rows)
        # The index shard mirrors asset events with its own ids, as store_event does.
        with self.index_transaction() as conn:
            event_ids = [
                conn.execute(SqlEventLogStorageTable.insert().values(**row)).inserted_primary_key[0]
                for row in rows
            ]
            self._store_asset_event_tags(conn, events, event_ids)
            for event, event_id in zip(events, event_ids, strict=True):
                self._store_asset_event(conn, event, event_id)


def _is_asset_event_batch(events: Sequence[EventLogEntry]) -> bool:
    """Events of one run that store_event handles only as asset events."""
    return (
        bool(events)
        and len({event.run_id for event in events}) == 1
        and all(
            event.is_dagster_event
            and event.dagster_event_type in ASSET_EVENTS
            and event.dagster_event_type not in ASSET_CHECK_EVENTS
            and not event.get_dagster_event().is_job_event
            for event in events
        )
    )


def dagster_yaml(settings: Settings) -> str:
    return DAGSTER_YAML.format(
        header=YECAI_HEADER, event_log_dir=settings.dagster_home / "history" / "runs"
    )


def ensure_instance_home(settings: Settings) -> None:
    """Write the home's dagster.yaml (unless its owner took it over) and point Dagster at it."""
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    config = settings.dagster_home / "dagster.yaml"
    wanted = dagster_yaml(settings)
    if not config.exists() or (
        config.read_text(encoding="utf-8").startswith(YECAI_HEADER)
        and config.read_text(encoding="utf-8") != wanted
    ):
        config.write_text(wanted, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    os.environ["DAGSTER_EVENT_BATCH_SIZE"] = str(EVENT_BATCH_SIZE)
