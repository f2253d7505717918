"""The shapes rows take through ingestion: where each row came from, a file's rows as
read, and a batch's rows split into loaded and quarantined."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from pipelines.ingest.landing import LandedFile

ROW_NUMBER = "_source_row_number"
SOURCE_FILE = "_source_file"
BUSINESS_DATE = "_business_date"  # the delivery folder's date, on every row of a batch
REASON = "_reason"  # why a row was quarantined

# Where a row came from: its delivery date, file and line (1 = the first data row).
FILE_ROW = (BUSINESS_DATE, SOURCE_FILE, ROW_NUMBER)


@dataclass
class ReadFile:
    """A delivered file's rows (the contract's columns, as delivered) with FILE_ROW."""

    landed: LandedFile
    rows: pl.DataFrame
    warnings: list[str] = field(default_factory=list)


@dataclass
class ParsedBatch:
    """Rows of one or more files: loaded (lake schema) and quarantined (with the reason),
    each with BUSINESS_DATE to split them by partition."""

    loaded: pl.DataFrame
    quarantined: pl.DataFrame
