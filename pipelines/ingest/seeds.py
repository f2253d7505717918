"""Reference data (seeds/*.csv) as text frames, for the contracts' foreign keys."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import polars as pl

from pipelines.settings import SEEDS_DIR


@cache
def load_seeds(seeds_dir: Path = SEEDS_DIR) -> dict[str, pl.DataFrame]:
    return {
        path.stem: pl.read_csv(path, infer_schema=False) for path in sorted(seeds_dir.glob("*.csv"))
    }
