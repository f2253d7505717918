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
from pipelines.settings import duckdb_config

MARTS_SCHEMA = "marts"


@dataclass(frozen=True)
class Publication:
    path: Path
    tables: dict[str, int]  # table → rows


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
            con.execute(f"attach '{build_db}' as build (read_only)")
            for table in tables:
                con.execute(
                    f'create table main."{table}" as select * from build.{MARTS_SCHEMA}."{table}"'
                )
                [(counts[table],)] = con.execute(f'select count(*) from main."{table}"').fetchall()
            con.execute("detach build")
            con.execute("checkpoint")
        fsync_path(staging)
        crash_point("publish.copied")
        os.replace(staging, marts_db)
        fsync_path(marts_db.parent)
        crash_point("publish.replaced")
    finally:
        for leftover in (staging, staging.with_name(staging.name + ".wal")):
            leftover.unlink(missing_ok=True)
    return Publication(path=marts_db, tables=counts)
