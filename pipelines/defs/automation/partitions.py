"""Daily business-date partitions in Asia/Shanghai, from the configured first date."""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg

from pipelines.settings import BUSINESS_TIMEZONE, Settings


def daily_partitions(settings: Settings) -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(
        start_date=settings.start_date.isoformat(), timezone=BUSINESS_TIMEZONE
    )


def window_days(context: dg.AssetExecutionContext | dg.OpExecutionContext) -> list[date]:
    """Every business date of the run's partition window (one day, or a whole backfill)."""
    window = context.partition_time_window
    first, end = window.start.date(), window.end.date()
    return [first + timedelta(days=i) for i in range((end - first).days)]
