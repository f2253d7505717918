"""``audit.ingest_files`` in build.duckdb: one row per file each time ingestion handled it.

For every loaded file rows_read = rows_loaded + rows_quarantined. The latest LOADED row of
a (source, business_date, file_name) is what the lake holds for that file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import polars as pl

STATUS_LOADED = "LOADED"
STATUS_DUPLICATE = "DUPLICATE_DELIVERY"
STATUS_FAILED = "FAILED"

DDL = """
create schema if not exists audit;
create table if not exists audit.ingest_files (
    source            varchar not null,
    business_date     date not null,
    file_name         varchar not null,
    file_sha256       varchar,
    file_size_bytes   bigint,
    rows_read         bigint,
    rows_loaded       bigint,
    rows_quarantined  bigint,
    status            varchar not null,
    message           varchar,
    contract_version  varchar,
    run_id            varchar,
    ingested_at       timestamptz not null
);
"""


@dataclass(frozen=True)
class FileRecord:
    source: str
    business_date: date
    file_name: str
    file_sha256: str | None
    file_size_bytes: int | None
    rows_read: int | None
    rows_loaded: int | None
    rows_quarantined: int | None
    status: str
    message: str | None
    contract_version: str
    run_id: str
    ingested_at: datetime


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


@dataclass(frozen=True)
class FileState:
    """What the lake holds of a delivered file: its rows (LOADED) or nothing because it
    repeats another file's content (DUPLICATE_DELIVERY), as of its latest delivery."""

    status: str
    sha256: str
    message: str | None


def file_states(
    con: duckdb.DuckDBPyConnection, source: str, first: date, last: date
) -> dict[tuple[date, str], FileState]:
    """(business_date, file_name) → the file's state: its latest LOADED or duplicate row
    (a failed attempt leaves what was there before)."""
    rows = con.execute(
        """
        select business_date, file_name, status, file_sha256, message
        from audit.ingest_files
        where source = ? and business_date between ? and ? and status in (?, ?)
        qualify row_number() over (
            partition by business_date, file_name order by ingested_at desc) = 1
        """,
        [source, first, last, STATUS_LOADED, STATUS_DUPLICATE],
    ).fetchall()
    return {
        (day, name): FileState(status, sha, message) for day, name, status, sha, message in rows
    }


def record(con: duckdb.DuckDBPyConnection, records: list[FileRecord]) -> None:
    if not records:
        return
    frame = pl.DataFrame([r.__dict__ for r in records])  # noqa: F841 - read by DuckDB below
    con.execute("insert into audit.ingest_files by name select * from frame")
