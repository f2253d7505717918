"""Comparison features of identifier tokens, kept once per token.

Identity matching compares what a record shows with what other records showed when the
two are not equal (a mistyped phone, a name in pinyin): :func:`pipelines.pii.features`
says what is compared. They are computed from the raw value, so here, while ingestion
holds it; and once per token, not per row: a token seen before already has them, so a
night computes features only for the identifiers it sees for the first time.

``lake/identity_features/<kind>/<hash of its tokens>.parquet``: one row per token (a token delivered
first by two sources at once may have two equal rows; readers take one). Files are only
added, each written whole and renamed into place; they are written before the rows that
show the tokens, so a killed run leaves features of rows not loaded at worst, which are
harmless and found again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl

from pipelines import pii
from pipelines.durable import fsync_path

STORE = "identity_features"


def store_glob(lake: Path, kind: str) -> str:
    return str(lake / STORE / kind / "*.parquet")


class IdentityFeatures:
    """The store of one ingestion: which tokens have features, and the new ones a batch
    brings, written by :meth:`write`."""

    def __init__(self, lake: Path, key: bytes):
        self.root = lake / STORE
        self.key = key
        self._known: dict[str, pl.Series] = {}
        self._new: dict[str, list[pl.DataFrame]] = {}

    def known(self, kind: str) -> pl.Series:
        if kind not in self._known:
            folder = self.root / kind
            files = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
            self._known[kind] = (
                pl.scan_parquet(files).select("token").collect()["token"]
                if files
                else pl.Series("token", [], dtype=pl.String)
            )
        return self._known[kind]

    def add(self, kind: str, values: pl.Series, tokens: pl.Series) -> None:
        """Features of the (normalised value, token) pairs whose token has none yet."""
        pairs = (
            pl.DataFrame({"value": values.cast(pl.String), "token": tokens})
            .drop_nulls()
            .unique("token")
            .filter(~pl.col("token").is_in(self.known(kind).implode()))
        )
        staged = self._new.get(kind, [])
        if staged:
            pairs = pairs.filter(~pl.col("token").is_in(pl.concat(staged)["token"].implode()))
        if pairs.height:
            self._new.setdefault(kind, []).append(
                pii.token_features(
                    kind, pairs["value"].to_list(), pairs["token"].to_list(), self.key
                )
            )

    def write(self) -> None:
        """Keep the new features: one file per kind, renamed into place whole."""
        for kind, frames in self._new.items():
            frame = pl.concat(frames)
            folder = self.root / kind
            folder.mkdir(parents=True, exist_ok=True)
            # Named by the tokens it holds: a re-run after a kill writes the file a run
            # that was never killed writes.
            name = hashlib.sha256("\n".join(sorted(frame["token"])).encode()).hexdigest()[:32]
            name = f"{name}.parquet"
            partial = folder / f".{name}.partial"
            frame.write_parquet(partial)
            fsync_path(partial)
            partial.rename(folder / name)
            fsync_path(folder)
            self._known[kind] = pl.concat([self.known(kind), frame["token"]])
        self._new.clear()
