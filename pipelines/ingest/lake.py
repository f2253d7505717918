"""The Parquet lake: one folder per source and business date, replaced whole.

``lake/<raw|quarantine>/<source>/business_date=YYYY-MM-DD/<landing file name>.parquet``.
A partition is assembled in ``lake/.staging`` (unchanged files hard-linked, new ones
written and fsynced) and renamed into place, so a reader or a killed run only ever sees a
whole partition, old or new.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import polars as pl

from pipelines.crash_points import crash_point
from pipelines.durable import fsync_path

PARQUET_SUFFIX = ".parquet"


def partition_dir(root: Path, source: str, day: date) -> Path:
    return root / source / f"business_date={day.isoformat()}"


def lake_file_name(landing_file_name: str) -> str:
    return landing_file_name + PARQUET_SUFFIX


def recover_partition(final: Path, lake: Path) -> None:
    """Tidy what a killed run left of a swap: the old folder goes back if the new one is
    absent; half-written staging folders and swapped-out old folders go. (One run writes at
    a time, so whatever is there belongs to a run that is gone.)"""
    pattern = f"{final.parent.name}.{final.name}.*"
    leftovers = sorted((lake / ".trash").glob(pattern))
    if leftovers and not final.exists():
        leftovers.pop().rename(final)
    for folder in [*leftovers, *(lake / ".staging").glob(pattern)]:
        shutil.rmtree(folder, ignore_errors=True)


def replace_partition(
    lake: Path, final: Path, new_files: Mapping[str, pl.DataFrame], keep: set[str]
) -> None:
    """Make ``final`` hold the files in ``keep`` (as they are) plus ``new_files``, atomically."""
    staging = lake / ".staging" / f"{final.parent.name}.{final.name}.{uuid.uuid4().hex}"
    staging.mkdir(parents=True)
    try:
        for name in keep:
            os.link(final / name, staging / name)
        for name, frame in new_files.items():
            path = staging / name
            frame.write_parquet(path, compression="zstd", statistics=True)
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
        fsync_path(staging)
        crash_point("lake.staged")
        final.parent.mkdir(parents=True, exist_ok=True)
        trash = lake / ".trash"
        trash.mkdir(exist_ok=True)
        old = trash / f"{final.parent.name}.{final.name}.{uuid.uuid4().hex}"
        if final.exists():
            final.rename(old)
            crash_point("lake.swapping")
        staging.rename(final)
        fsync_path(final.parent)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def existing_files(final: Path) -> set[str]:
    if not final.is_dir():
        return set()
    return {p.name for p in final.iterdir() if p.suffix == PARQUET_SUFFIX}
