"""A run's window of business dates, as run tags."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from pipelines.library_patches.dagster_run_tags import (
    PARTITION_RANGE_END_TAG,
    PARTITION_RANGE_START_TAG,
    PARTITION_TAG,
)

LAUNCHED_BY_TAG = "yecai/launched_by"


def window_tags(first: date, last: date) -> dict[str, str]:
    """Tags that make a run cover first..last (one run for the whole range)."""
    return {
        PARTITION_RANGE_START_TAG: first.isoformat(),
        PARTITION_RANGE_END_TAG: last.isoformat(),
    }


def tagged_window(tags: Mapping[str, str]) -> tuple[date, date] | None:
    """The first and last business date a run is tagged with: its partition range or its
    one partition; None for an unpartitioned run."""
    if PARTITION_RANGE_START_TAG in tags:
        return (
            date.fromisoformat(tags[PARTITION_RANGE_START_TAG]),
            date.fromisoformat(tags[PARTITION_RANGE_END_TAG]),
        )
    if PARTITION_TAG in tags:
        day = date.fromisoformat(tags[PARTITION_TAG])
        return day, day
    return None
