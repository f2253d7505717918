"""Repeated keys: a later row repeating an earlier row's primary key (within its file, or
another file of the same business date) is quarantined; the first one loads."""

from __future__ import annotations

import polars as pl

from pipelines.contracts import Contract
from pipelines.ingest.frames import (
    BUSINESS_DATE,
    FILE_ROW,
    REASON,
    ROW_NUMBER,
    SOURCE_FILE,
    ParsedBatch,
)


def _repeated(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """The rows whose values of ``columns`` occur more than once (one hash pass; few rows)."""
    return frame.filter(pl.struct(*columns).is_duplicated())


def duplicate_reasons(good: pl.DataFrame, contract: Contract) -> pl.DataFrame:
    """Later rows repeating an earlier row's primary key within their file."""
    key = list(contract.primary_key)
    repeats = _repeated(good.select(*FILE_ROW, *key), BUSINESS_DATE, SOURCE_FILE, *key)
    first_row = pl.col(ROW_NUMBER).min().over(BUSINESS_DATE, SOURCE_FILE, *key)
    return (
        repeats.with_columns(first_row.alias("::first_row"))
        .filter(pl.col(ROW_NUMBER) != pl.col("::first_row"))
        .select(
            *FILE_ROW,
            pl.format(
                f"duplicate key ({', '.join(contract.primary_key)}): same as row {{}} of {{}}",
                pl.col("::first_row"),
                pl.col(SOURCE_FILE),
            ).alias("::duplicate"),
        )
    )


def quarantine_repeated_keys(
    parsed: ParsedBatch, earlier: pl.DataFrame | None, contract: Contract
) -> ParsedBatch:
    """Move loaded rows whose key another file of the same business date loaded first.

    ``earlier``: (BUSINESS_DATE, key, SOURCE_FILE) of files the lake keeps for those dates,
    if any; they come before the batch's files, which come in file-name order.
    """
    key = list(contract.primary_key)
    claims = parsed.loaded.select(BUSINESS_DATE, *key, SOURCE_FILE).with_columns(
        pl.lit(1).alias("::rank")
    )
    if earlier is not None:
        claims = pl.concat(
            [
                earlier.select(BUSINESS_DATE, *key, SOURCE_FILE).with_columns(
                    pl.lit(0).alias("::rank")
                ),
                claims,
            ],
            how="vertical_relaxed",
        )
    contested = _repeated(claims, BUSINESS_DATE, *key)
    if contested.is_empty():
        return parsed
    owners = (
        contested.sort("::rank", SOURCE_FILE)
        .group_by(BUSINESS_DATE, *key, maintain_order=True)
        .agg(pl.col(SOURCE_FILE).first().alias("::owner"))
    )
    marked = parsed.loaded.join(
        owners, on=[BUSINESS_DATE, *key], how="left", nulls_equal=True, maintain_order="left"
    )
    repeated = pl.col("::owner").is_not_null() & (pl.col("::owner") != pl.col(SOURCE_FILE))
    reason = pl.format(
        f"duplicate key ({', '.join(key)}): already loaded from {{}} for this business date",
        pl.col("::owner"),
    )
    moved = (
        marked.filter(repeated)
        .with_columns(reason.alias(REASON))
        .select(
            BUSINESS_DATE,
            *(
                pl.col(name).cast(pl.String) if dtype == pl.String() else pl.col(name).cast(dtype)
                for name, dtype in contract.quarantine_schema().items()
            ),
        )
    )
    return ParsedBatch(
        loaded=marked.filter(~repeated).drop("::owner"),
        quarantined=pl.concat([parsed.quarantined, moved]),
    )
