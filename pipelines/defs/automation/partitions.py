"""Daily business-date partitions in Asia/Shanghai, from the configured first date."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

import dagster as dg
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    PARTITION_NAME_TAG,
)

from pipelines.settings import BUSINESS_TIMEZONE, Settings


def daily_partitions(settings: Settings) -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(
        start_date=settings.start_date.isoformat(), timezone=BUSINESS_TIMEZONE
    )


def tagged_window(tags: Mapping[str, str]) -> tuple[date, date] | None:
    """The first and last business date a run is tagged with: its partition range or its
    one partition; None for an unpartitioned run."""
    if ASSET_PARTITION_RANGE_START_TAG in tags:
        return (
            date.fromisoformat(tags[ASSET_PARTITION_RANGE_START_TAG]),
            date.fromisoformat(tags[ASSET_PARTITION_RANGE_END_TAG]),
        )
    if PARTITION_NAME_TAG in tags:
        day = date.fromisoformat(tags[PARTITION_NAME_TAG])
        return day, day
    return None


def window_days(context: dg.AssetExecutionContext | dg.OpExecutionContext) -> list[date]:
    """Every business date of the run's partition window (one day, or a whole backfill)."""
    window = context.partition_time_window
    first, end = window.start.date(), window.end.date()
    return [first + timedelta(days=i) for i in range((end - first).days)]
