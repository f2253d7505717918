"""``audit.ingest_files`` in build.duckdb: one row per file each time ingestion handled it.

For every loaded file rows_read = rows_loaded + rows_quarantined. The latest LOADED row of
a (source, business_date, file_name) is what the lake holds for that file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import polars as pl

from pipelines import pii

STATUS_LOADED = "LOADED"
STATUS_DUPLICATE = "DUPLICATE_DELIVERY"
STATUS_FAILED = "FAILED"

DDL = """
create schema if not exists audit;
create table if not exists audit.pii_key (
    fingerprint  varchar not null,
    recorded_at  timestamptz not null
);
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


def audited_versions(con: duckdb.DuckDBPyConnection) -> set[tuple[str, date, str, str]]:
    """(source, business_date, file_name, sha256) of every file ingestion has handled."""
    if not con.sql(
        "select 1 from duckdb_tables() where schema_name = 'audit' and table_name = 'ingest_files'"
    ).fetchall():
        return set()
    return set(
        con.sql(
            "select distinct source, business_date, file_name, file_sha256 "
            "from audit.ingest_files where file_sha256 is not null"
        ).fetchall()
    )


def record(con: duckdb.DuckDBPyConnection, records: list[FileRecord]) -> None:
    if not records:
        return
    frame = pl.DataFrame([r.__dict__ for r in records])  # noqa: F841 - read by DuckDB below
    con.execute("insert into audit.ingest_files by name select * from frame")


def check_pii_key(con: duckdb.DuckDBPyConnection, key: bytes, home: str) -> None:
    """Refuse a key other than the one the home's tokens were made with; a home's first
    key (or the first seen by a home from before fingerprints) is recorded."""
    fingerprint = pii.key_fingerprint(key)
    rows = con.execute("select fingerprint from audit.pii_key").fetchall()
    if not rows:
        con.execute("insert into audit.pii_key values (?, now())", [fingerprint])
    elif rows[0][0] != fingerprint:
        raise pii.key_mismatch(home)


def recorded_key_matches(build_db, key: bytes) -> bool | None:
    """Whether a home's build.duckdb was tokenised with this key (None: nothing recorded,
    or the file is held by a writer now: ingestion checks again when it opens it)."""
    try:
        with duckdb.connect(str(build_db), read_only=True) as con:
            found = con.execute(
                "select 1 from duckdb_tables() "
                "where schema_name = 'audit' and table_name = 'pii_key'"
            ).fetchall()
            if not found:
                return None
            rows = con.execute("select fingerprint from audit.pii_key").fetchall()
    except duckdb.IOException:
        return None
    return rows[0][0] == pii.key_fingerprint(key) if rows else None
