"""The run tags Dagster puts a run's partitions in (dagster._core.storage.tags has them;
the UI and the GraphQL API show them, but dagster exports no public name for them)."""

PARTITION_TAG = "dagster/partition"
PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"
BACKFILL_TAG = "dagster/backfill"
