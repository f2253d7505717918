"""Write-audit-publish of warehouse/marts.duckdb.

The marts are copied from build.duckdb into a new file beside marts.duckdb, checkpointed,
fsynced and renamed over it: an analyst's open connection keeps reading the old snapshot
(its inode), a new connection sees the new one, and nobody ever sees half a file. In the
published file every mart is a table of the default schema under its bare name, a mart
that is a view in the build included.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.crash_points import crash_point
from pipelines.durable import fsync_path
from pipelines.settings import duckdb_config, sql_literal

MARTS_SCHEMA = "marts"


@dataclass(frozen=True)
class Publication:
    path: Path
    tables: dict[str, int]  # table → rows
    # A write-ahead log that a read-write session on the published file left behind: it
    # belongs to the replaced file, and would stop every reader of the new one.
    stale_wal_removed: bool = False


def _remove_stale_wal(marts_db: Path) -> bool:
    wal = marts_db.with_name(marts_db.name + ".wal")
    if wal.exists():
        wal.unlink()
        return True
    return False


def mart_tables(build_db: Path) -> list[str]:
    with duckdb.connect(str(build_db), read_only=True, config=duckdb_config()) as con:
        rows = con.execute(
            # Views too (fct_sales_margin): each is published as a table of its rows.
            "select table_name from information_schema.tables "
            "where table_schema = ? and table_type in ('BASE TABLE', 'VIEW') "
            "order by table_name",
            [MARTS_SCHEMA],
        ).fetchall()
    return [name for (name,) in rows]


def publish(build_db: Path, marts_db: Path) -> Publication:
    """Replace marts_db atomically with the marts of build_db."""
    tables = mart_tables(build_db)
    if not tables:
        raise RuntimeError(f"{build_db} has no tables in schema {MARTS_SCHEMA}: nothing to publish")
    for leftover in marts_db.parent.glob(f".{marts_db.name}.*.tmp*"):
        leftover.unlink()  # from a publish that was killed: one writer at a time
    staging = marts_db.with_name(f".{marts_db.name}.{uuid.uuid4().hex}.tmp")
    counts: dict[str, int] = {}
    try:
        with duckdb.connect(str(staging), config=duckdb_config()) as con:
            con.execute(f"attach {sql_literal(build_db)} as build (read_only)")
            for table in tables:
                con.execute(
                    f'create table main."{table}" as select * from build.{MARTS_SCHEMA}."{table}"'
                )
                [(counts[table],)] = con.execute(f'select count(*) from main."{table}"').fetchall()
            con.execute("detach build")
            con.execute("checkpoint")
        fsync_path(staging)
        crash_point("publish.copied")
        stale = _remove_stale_wal(marts_db)
        os.replace(staging, marts_db)
        stale = _remove_stale_wal(marts_db) or stale  # written meanwhile by that session
        fsync_path(marts_db.parent)
        crash_point("publish.replaced")
    finally:
        for leftover in (staging, staging.with_name(staging.name + ".wal")):
            leftover.unlink(missing_ok=True)
    _check_readable(marts_db, counts)
    return Publication(path=marts_db, tables=counts, stale_wal_removed=stale)


def _check_readable(marts_db: Path, counts: dict[str, int]) -> None:
    """Open the published file as a new reader will: published means readable. (Attached
    into a fresh database: a connection to the path could be this process's cached one.)"""
    try:
        with duckdb.connect(config=duckdb_config()) as con:
            con.execute(f"attach {sql_literal(marts_db)} as published (read_only)")
            found = {
                t
                for (t,) in con.execute(
                    "select table_name from duckdb_tables() where database_name = 'published'"
                ).fetchall()
            }
    except duckdb.Error as exc:
        raise RuntimeError(
            f"{marts_db} was replaced but does not open for reading ({exc}); publish again"
        ) from exc
    if found != set(counts):
        raise RuntimeError(f"{marts_db} was replaced but lacks {sorted(set(counts) - found)}")
