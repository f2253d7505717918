"""Write-audit-publish of warehouse/marts.duckdb.

The new marts are written into a new file beside marts.duckdb, checkpointed, fsynced and
renamed over it: an analyst's open connection keeps reading the old snapshot (its inode),
a new connection sees the new one, and nobody ever sees half a file. In the published
file every mart is a table of the default schema under its bare name, a mart that is a
view in the build included.

A nightly publication patches a copy of the published file instead of writing every mart
again: the file is copied byte for byte (sequential I/O, no re-encoding), the rows the
unpublished runs changed are deleted and inserted from build.duckdb, and every mart whose
changes are not bounded (a table rebuilt whole) is replaced. Copying the bytes was
measured several times cheaper than re-encoding every row (BENCHMARKS.md). A full copy is
written instead when there is nothing to patch from, a mart's columns changed, the file
has grown a quarter free space from patches, or it is not in the storage format analysts'
tools read (DuckDB 1.x: ``ANALYST_STORAGE_VERSION``; a file published before is written
anew once).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.crash_points import crash_point
from pipelines.durable import fsync_path
from pipelines.settings import duckdb_config, sql_literal
from pipelines.transform.manifest import Manifest

MARTS_SCHEMA = "marts"
# The storage format the published file is written in: what DuckDB 1.0 and later read, as
# analysts' tools embed DuckDB 1.x (DuckDB 2's own format, 69, they refuse). Every column
# type the marts use exists there.
ANALYST_STORAGE_VERSION = "v1.0.0"
# Patching leaves deleted rows' blocks free; past this share the file is written anew.
MAX_FREE_SHARE = 0.25


@dataclass(frozen=True)
class Publication:
    path: Path
    tables: dict[str, int]  # table → rows
    # A write-ahead log that a read-write session on the published file left behind: it
    # belongs to the replaced file, and would stop every reader of the new one.
    stale_wal_removed: bool = False
    patched: tuple[str, ...] = field(default=())  # marts patched in place, not rewritten


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


@dataclass(frozen=True)
class Described:
    """What a mart and its columns mean (their dbt descriptions): the published file
    carries them as DuckDB comments, where analysts' tools show them."""

    table: str
    columns: Mapping[str, str]


def mart_descriptions(manifest: Manifest) -> dict[str, Described]:
    return {
        node["name"]: Described(
            node.get("description") or "",
            {name: spec.get("description") or "" for name, spec in node["columns"].items()},
        )
        for node in manifest.models(MARTS_SCHEMA)
    }


def publish(
    build_db: Path,
    marts_db: Path,
    changed: Mapping[str, str | None] | None = None,
    described: Mapping[str, Described] | None = None,
) -> Publication:
    """Replace marts_db atomically with the marts of build_db.

    ``changed`` (mart → SQL condition on its rows, None for any row) says which rows
    changed since marts_db was published from this build: those marts are patched on a
    copy of marts_db. Without it, or when patching does not apply, every mart is copied.
    ``described``: each mart's comments (:func:`mart_descriptions`).
    """
    tables = mart_tables(build_db)
    if not tables:
        raise RuntimeError(f"{build_db} has no tables in schema {MARTS_SCHEMA}: nothing to publish")
    for leftover in marts_db.parent.glob(f".{marts_db.name}.*.tmp*"):
        leftover.unlink()  # from a publish that was killed: one writer at a time
    staging = marts_db.with_name(f".{marts_db.name}.{uuid.uuid4().hex}.tmp")
    counts: dict[str, int] = {}
    patch = changed is not None and marts_db.exists() and _patchable(marts_db)
    if patch:
        shutil.copyfile(marts_db, staging)
    patched: list[str] = []
    written = {**duckdb_config(), "storage_compatibility_version": ANALYST_STORAGE_VERSION}
    try:
        with duckdb.connect(str(staging), config=written) as con:
            con.execute(f"attach {sql_literal(build_db)} as build (read_only)")
            published = _columns(con, "main") if patch else {}
            built = _columns(con, MARTS_SCHEMA, catalog="build")
            for gone in published.keys() - set(tables):
                con.execute(f'drop table main."{gone}"')
            for table in tables:
                condition = changed.get(table) if changed else None
                if condition is not None and published.get(table) == built[table]:
                    con.execute(f'delete from main."{table}" where {condition}')
                    con.execute(
                        f'insert into main."{table}" '
                        f'select * from build.{MARTS_SCHEMA}."{table}" where {condition}'
                    )
                    patched.append(table)
                else:
                    con.execute(
                        f'create or replace table main."{table}" as '
                        f'select * from build.{MARTS_SCHEMA}."{table}"'
                    )
                [(counts[table],)] = con.execute(f'select count(*) from main."{table}"').fetchall()
                if described and table in described:
                    _comment(con, table, described[table], [c for c, _ in built[table]])
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
    return Publication(
        path=marts_db, tables=counts, stale_wal_removed=stale, patched=tuple(patched)
    )


def _comment(
    con: duckdb.DuckDBPyConnection, table: str, described: Described, columns: list[str]
) -> None:
    """The table's and each column's comment (set each time: a description may change)."""
    con.execute(f'comment on table main."{table}" is {sql_literal(described.table)}')
    for column in columns:
        text = described.columns.get(column, "")
        con.execute(f'comment on column main."{table}"."{column}" is {sql_literal(text)}')


def _columns(
    con: duckdb.DuckDBPyConnection, schema: str, catalog: str | None = None
) -> dict[str, list[tuple[str, str]]]:
    """Each table's (column, type) in order: a mart is patched only into its own shape."""
    rows = con.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_catalog = coalesce(?, current_database()) "
        "order by table_name, ordinal_position",
        [schema, catalog],
    ).fetchall()
    found: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in rows:
        found.setdefault(table, []).append((column, data_type))
    return found


def _patchable(marts_db: Path) -> bool:
    """Whether the published file may be patched: written in the analysts' storage format
    (a file from before is written anew) and not left too free by earlier patches."""
    return storage_version(marts_db) == f"{ANALYST_STORAGE_VERSION}+" and not _mostly_free(marts_db)


def storage_version(database: Path) -> str:
    """The oldest DuckDB version that reads the file, as DuckDB tags it ("v1.0.0+")."""
    with duckdb.connect(config=duckdb_config()) as con:
        con.execute(f"attach {sql_literal(database)} as published (read_only)")
        [(tags,)] = con.execute(
            "select tags from duckdb_databases() where database_name = 'published'"
        ).fetchall()
    return tags.get("storage_version", "")


def _mostly_free(marts_db: Path) -> bool:
    """Whether patches have left too much of the file free (then it is written anew)."""
    with duckdb.connect(config=duckdb_config()) as con:
        con.execute(f"attach {sql_literal(marts_db)} as published (read_only)")
        [(total, free)] = con.execute(
            "select total_blocks, free_blocks from pragma_database_size() "
            "where database_name = 'published'"
        ).fetchall()
    return total > 0 and free / total > MAX_FREE_SHARE


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
