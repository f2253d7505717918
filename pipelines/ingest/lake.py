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

from pipelines.durable import fsync_path

PARQUET_SUFFIX = ".parquet"


def partition_dir(root: Path, source: str, day: date) -> Path:
    return root / source / f"business_date={day.isoformat()}"


def lake_file_name(landing_file_name: str) -> str:
    return landing_file_name + PARQUET_SUFFIX


def recover_partition(final: Path, lake: Path) -> None:
    """Undo a swap a killed run left half done: the old folder goes back if the new is absent."""
    trash = lake / ".trash"
    if final.exists() or not trash.is_dir():
        return
    leftovers = sorted(trash.glob(f"{final.parent.name}.{final.name}.*"))
    if leftovers:
        leftovers[-1].rename(final)


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
        final.parent.mkdir(parents=True, exist_ok=True)
        trash = lake / ".trash"
        trash.mkdir(exist_ok=True)
        old = trash / f"{final.parent.name}.{final.name}.{uuid.uuid4().hex}"
        if final.exists():
            final.rename(old)
        staging.rename(final)
        fsync_path(final.parent)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def existing_files(final: Path) -> set[str]:
    if not final.is_dir():
        return set()
    return {p.name for p in final.iterdir() if p.suffix == PARQUET_SUFFIX}
