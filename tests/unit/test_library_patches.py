"""The patches of libraries' private APIs (pipelines/library_patches): each does what the
library's own code does where it should, is still needed, and steps aside under a version
it was not tested with."""

import sqlite3
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import great_expectations as gx
import pytest
from dagster._core.storage import tags as dagster_tags
from dagster._serdes import deserialize_value

from pipelines import library_patches
from pipelines.gates.suite import Expectation, Suite
from pipelines.gates.validate import validate
from pipelines.library_patches import dagster_event_log, dagster_run_tags, gx_duckdb_fetch
from pipelines.library_patches.dagster_event_log import (
    EVENT_BATCH_SIZE,
    BatchedSqliteEventLogStorage,
)
from pipelines.library_patches.dagster_run_tags import (
    PARTITION_RANGE_END_TAG as ASSET_PARTITION_RANGE_END_TAG,
)
from pipelines.library_patches.dagster_run_tags import (
    PARTITION_RANGE_START_TAG as ASSET_PARTITION_RANGE_START_TAG,
)
from pipelines.runs.instance import dagster_yaml, ensure_instance_home
from pipelines.settings import Settings

DAYS = dg.DailyPartitionsDefinition(start_date="2024-01-01")
ASSETS = ["first", "second", "third"]
# Values that differ between any two runs (ids, times, serialized blobs): compared by
# whether they are set, or by what they point at.
VOLATILE = {
    "id",
    "run_id",
    "event",
    "timestamp",
    "event_timestamp",
    "create_timestamp",
    "last_materialization_timestamp",
    "last_run_id",
    "evaluation_event_timestamp",
    "evaluation_event",
    "evaluation_event_storage_id",
    "cached_status_data",
    "migration_completed",
}
# Tags whose value is derived from the run (the data version hashes the run id).
VOLATILE_TAGS = {"dagster/data_version"}


@dg.multi_asset(
    specs=[dg.AssetSpec(name) for name in ASSETS],
    check_specs=[dg.AssetCheckSpec("rows_counted", asset="first")],
    partitions_def=DAYS,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def three_assets():
    for name in ASSETS:
        yield dg.MaterializeResult(asset_key=name, metadata={"rows": 1})
    yield dg.AssetCheckResult(asset_key="first", check_name="rows_counted", passed=True)


def run_range(dagster_home: Path) -> str:
    job = dg.Definitions(
        assets=[three_assets],
        jobs=[dg.define_asset_job("all", executor_def=dg.in_process_executor)],
    ).resolve_job_def("all")
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        result = job.execute_in_process(
            instance=instance,
            tags={
                ASSET_PARTITION_RANGE_START_TAG: "2024-01-01",
                ASSET_PARTITION_RANGE_END_TAG: "2024-01-05",
            },
        )
        assert result.success
        for name in ASSETS:
            assert len(instance.get_materialized_partitions(dg.AssetKey(name))) == 5
    return result.run_id


def tables(db: Path) -> dict[str, list[tuple]]:
    """Every table's rows, with volatile values replaced by what they mean."""
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    names = [
        r[0]
        for r in con.execute("select name from sqlite_master where type = 'table'")
        if r[0] != "alembic_version"
    ]
    events = {
        row["id"]: (row["dagster_event_type"], row["asset_key"], row["partition"])
        for row in con.execute("select * from event_logs")
    }
    content = {}
    for name in names:
        rows = []
        for row in con.execute(f"select * from {name}"):
            values = []
            for column in row.keys():  # noqa: SIM118 - sqlite3.Row
                value = row[column]
                if column == "event_id":
                    value = events.get(value)
                elif column == "last_materialization" and value:
                    value = events.get(deserialize_value(value).storage_id)
                elif column in VOLATILE or (column == "value" and row["key"] in VOLATILE_TAGS):
                    value = value is not None
                values.append((column, value))
            rows.append(tuple(values))
        content[name] = sorted(rows, key=repr)
    return content


def test_batched_event_log_stores_what_dagsters_own_stores(tmp_path, monkeypatch):
    batches = []
    original = BatchedSqliteEventLogStorage.store_event_batch

    def counted(self, events):
        batches.append(len(events))
        original(self, events)

    monkeypatch.setattr(BatchedSqliteEventLogStorage, "store_event_batch", counted)
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", str(EVENT_BATCH_SIZE))

    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    plain_run = run_range(plain)

    settings = Settings(home=tmp_path / "home", start_date=date(2024, 1, 1))
    ensure_instance_home(settings)
    batched_run = run_range(settings.dagster_home)

    # Planned events and the materializations of each asset came in batches of 5 dates.
    assert max(batches) >= len(ASSETS) * 5 and batches.count(5) == len(ASSETS)
    runs = Path("history") / "runs"
    batched_index = tables(settings.dagster_home / runs / "index.db")
    assert batched_index == tables(plain / runs / "index.db")
    # The check was planned for each date of the run (rows Dagster keeps per partition).
    planned = [dict(row) for row in batched_index["asset_check_executions"]]
    assert sorted(row["partition"] for row in planned if row["partition"]) == [
        f"2024-01-0{day}" for day in range(1, 6)
    ]
    assert tables(settings.dagster_home / runs / f"{batched_run}.db") == tables(
        plain / runs / f"{plain_run}.db"
    )


def test_instance_home_config_follows_the_home_unless_taken_over(tmp_path):
    settings = Settings(home=tmp_path / "home")
    config = settings.dagster_home / "dagster.yaml"
    ensure_instance_home(settings)
    assert config.read_text() == dagster_yaml(settings)
    assert str(settings.dagster_home / "history" / "runs") in config.read_text()

    moved = Settings(home=tmp_path / "moved")
    moved.dagster_home.mkdir(parents=True)
    (moved.dagster_home / "dagster.yaml").write_text(config.read_text())
    ensure_instance_home(moved)
    assert (moved.dagster_home / "dagster.yaml").read_text() == dagster_yaml(moved)

    own = "telemetry:\n  enabled: false\n"
    config.write_text(own)
    ensure_instance_home(settings)
    assert config.read_text() == own


@pytest.mark.parametrize("with_batching", [True, False])
def test_yecai_instance_loads_the_batched_event_log(tmp_path, monkeypatch, with_batching):
    settings = Settings(home=tmp_path / "home")
    ensure_instance_home(settings)
    if not with_batching:
        monkeypatch.delenv("DAGSTER_EVENT_BATCH_SIZE")
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        assert isinstance(instance.event_log_storage, BatchedSqliteEventLogStorage)
    run_range(settings.dagster_home)


def _untested(monkeypatch, module) -> None:
    """Make the installed version of a patched library look untested."""
    monkeypatch.setattr(module, "TESTED_VERSIONS", ("0.0.0",))


def test_under_an_untested_dagster_the_home_uses_dagsters_own_event_log(tmp_path, monkeypatch):
    settings = Settings(home=tmp_path / "home")
    ensure_instance_home(settings)  # written while the version was a tested one
    _untested(monkeypatch, dagster_event_log)
    with pytest.warns(library_patches.UntestedVersionWarning, match="300 s more"):
        text = dagster_yaml(settings)
    assert "BatchedSqliteEventLogStorage" not in text
    # A dagster.yaml written before the upgrade still loads, with Dagster's own class.
    with pytest.warns(library_patches.UntestedVersionWarning):
        with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
            assert type(instance.event_log_storage).__name__ == "SqliteEventLogStorage"
        run_range(settings.dagster_home)


def test_the_run_tag_names_are_dagsters():
    assert dagster_run_tags.PARTITION_TAG == dagster_tags.PARTITION_NAME_TAG
    assert (
        dagster_run_tags.PARTITION_RANGE_START_TAG == dagster_tags.ASSET_PARTITION_RANGE_START_TAG
    )
    assert dagster_run_tags.PARTITION_RANGE_END_TAG == dagster_tags.ASSET_PARTITION_RANGE_END_TAG
    assert dagster_run_tags.BACKFILL_TAG == dagster_tags.BACKFILL_ID_TAG


def _row_count_suite() -> Suite:
    return Suite(
        name="row_count",
        query="select * from t",
        expectations=(
            Expectation(gx.expectations.ExpectTableRowCountToBeBetween(min_value=1), "rows"),
        ),
    )


def test_upstream_duckdb_bug_is_still_there(tmp_path, monkeypatch):
    """GX issue #11579: without the fix, metrics on DuckDB come back empty (and the gate
    fails: safe). When this test fails, upstream fixed the bug: remove gx_duckdb_fetch."""
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create table t as select * from range(3)")
    monkeypatch.setattr(gx_duckdb_fetch, "install", gx_duckdb_fetch.uninstall)
    gx_duckdb_fetch.uninstall()
    broken = validate(path, _row_count_suite())
    assert not broken.passed and broken.outcomes[0].observed is None
    monkeypatch.undo()
    fixed = validate(path, _row_count_suite())
    assert fixed.passed and fixed.outcomes[0].observed == 3


def test_under_an_untested_gx_the_fix_is_off_and_says_what_it_costs(tmp_path, monkeypatch):
    _untested(monkeypatch, gx_duckdb_fetch)
    try:
        with pytest.warns(library_patches.UntestedVersionWarning, match="nothing is published"):
            assert gx_duckdb_fetch.install() is False
        from great_expectations.execution_engine import sqlalchemy_execution_engine as engine

        assert (
            engine.SqlAlchemyExecutionEngine.execute_query
            is gx_duckdb_fetch._ORIGINAL_EXECUTE_QUERY
        )
    finally:
        monkeypatch.undo()
        assert gx_duckdb_fetch.install() is True
