"""Dagster's SQLite event log, writing a batch of asset events in one transaction.

A run over a range of business dates records, per asset and per date, a planned event
and a materialization (that is how the UI knows which dates are materialized, in
progress or failed), and per asset check and date a planned row. Dagster's SQLite event
log stores each event in its own transactions on two database files, and rebuilds the
same statements for each: about 10 ms an event here, so a 365-day backfill of the ~45
assets spent ~300 s on bookkeeping alone. Dagster already hands those events over in
batches (``DAGSTER_EVENT_BATCH_SIZE``), but its SQLite storage writes a batch one event
at a time. :class:`BatchedSqliteEventLogStorage` writes each batch of asset events in one
transaction per file, leaving the same rows as ``SqliteEventLogStorage.store_event`` does
(``tests/unit/test_library_patches.py`` compares both storages' tables after the same run).

It overrides private methods of ``SqliteEventLogStorage``; under a Dagster version it was
not tested with, :func:`is_enabled` is false and the home's instance uses Dagster's own
storage (see ``pipelines/runs/instance.py``).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from dagster._config import Field, StringSource
from dagster._core.events import ASSET_CHECK_EVENTS, ASSET_EVENTS
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.event_log.schema import (
    AssetCheckExecutionsTable,
    AssetKeyTable,
    SqlEventLogStorageTable,
)
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._serdes import ConfigurableClassData, serialize_value
from sqlalchemy import exc as db_exc
from sqlalchemy.engine import Connection

from pipelines.library_patches import is_tested

TESTED_VERSIONS = ("1.13.27",)
# Events Dagster buffers before handing them to the storage (per asset of a range run, and
# the planned events of a run, come in one batch each).
EVENT_BATCH_SIZE = 1000


def is_enabled() -> bool:
    """Whether the installed Dagster is one this storage was tested with."""
    return is_tested(
        "dagster",
        TESTED_VERSIONS,
        "yecai's batched SQLite event log",
        "Dagster's own SQLite event log is used instead: it stores each event in its own "
        "transactions, ~10 ms an event here, so a 365-day backfill spends ~300 s more on "
        "bookkeeping (a Postgres instance does not have this cost).",
    )


class BatchedSqliteEventLogStorage(SqliteEventLogStorage):
    """SQLite event log storage that stores a batch of asset events in one transaction."""

    @classmethod
    def config_type(cls) -> dict[str, Field]:
        return {"base_dir": Field(StringSource)}

    @classmethod
    def from_config_value(  # ty: ignore[invalid-method-override]
        cls, inst_data: ConfigurableClassData | None, config_value: dict[str, Any]
    ) -> SqliteEventLogStorage:
        if not is_enabled():  # a dagster.yaml written before an upgrade
            return SqliteEventLogStorage(inst_data=inst_data, **config_value)
        return cls(inst_data=inst_data, **config_value)

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        """Consecutive asset events of a run go in one transaction per file; any other event
        is stored on its own, as Dagster does, in the order given."""
        for is_asset, group in itertools.groupby(events, key=_is_asset_event):
            group = list(group)
            if is_asset and len({event.run_id for event in group}) == 1:
                self._store_asset_events(group)
            else:
                for event in group:
                    self.store_event(event)

    def _store_asset_events(self, events: list[EventLogEntry]) -> None:
        """What store_event does for each asset event: the row in the run's file, its mirror
        in the index file (with the index's own id), its tags and the asset's record."""
        rows = [self._event_to_row(event) for event in events]
        with self.run_connection(events[0].run_id) as conn:
            conn.execute(SqlEventLogStorageTable.insert(), rows)
        with self.index_transaction() as conn:
            inserted = conn.execute(
                SqlEventLogStorageTable.insert().returning(
                    SqlEventLogStorageTable.c.id, sort_by_parameter_order=True
                ),
                rows,
            )
            event_ids = list(inserted.scalars())
            self._store_asset_event_tags(conn, events, event_ids)
            self._store_asset_records(conn, events, event_ids)

    def _store_asset_records(
        self, conn: Connection, events: list[EventLogEntry], event_ids: list[int]
    ) -> None:
        """The asset records _store_asset_event keeps, once per asset: each event type sets
        its own columns, so applying the batch's events in order leaves, per column, the
        value of the last event that sets it."""
        with_index_columns = self._has_asset_key_index_cols_on_connection(conn)
        latest: dict[str, dict[str, Any]] = {}
        for event, event_id in zip(events, event_ids, strict=True):
            asset_key = event.get_dagster_event().asset_key
            values = self._get_asset_entry_values(event, event_id, with_index_columns)
            if asset_key and values:
                latest.setdefault(asset_key.to_string(), {}).update(values)
        for asset_key, values in latest.items():
            try:
                conn.execute(AssetKeyTable.insert().values(asset_key=asset_key, **values))
            except db_exc.IntegrityError:
                conn.execute(
                    AssetKeyTable.update()
                    .values(**values)
                    .where(AssetKeyTable.c.asset_key == asset_key)
                )

    def _store_asset_check_evaluation_planned(
        self, event: EventLogEntry, event_id: int | None
    ) -> None:
        """Dagster's rows (one per partition of the run), with the event serialized once and
        inserted in one statement: a 365-day run plans ~30,000 of them."""
        planned = event.get_dagster_event().event_specific_data
        partition_keys = (
            planned.partitions_subset.get_partition_keys() if planned.partitions_subset else [None]
        )
        row = {
            "asset_key": planned.asset_key.to_string(),
            "check_name": planned.check_name,
            "run_id": event.run_id,
            "execution_status": AssetCheckExecutionRecordStatus.PLANNED.value,
            "evaluation_event": serialize_value(event),
            "evaluation_event_timestamp": self._event_insert_timestamp(event),
            "evaluation_event_storage_id": event_id,
        }
        with self.index_connection() as conn:
            conn.execute(
                AssetCheckExecutionsTable.insert(),
                [{**row, "partition": key} for key in partition_keys],
            )


def _is_asset_event(event: EventLogEntry) -> bool:
    """An event store_event handles as an asset event only."""
    return (
        event.is_dagster_event
        and event.dagster_event_type in ASSET_EVENTS
        and event.dagster_event_type not in ASSET_CHECK_EVENTS
        and not event.get_dagster_event().is_job_event
    )
