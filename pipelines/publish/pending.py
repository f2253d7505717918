"""Windows built into build.duckdb and not yet published.

A run's gates read what it changed (pipelines/gates/scope.py). A run that built its window
and then failed a gate leaves rows in build.duckdb that no gate passed; a later night's
publication copies build.duckdb's marts, so its gates must cover those rows too. Each dbt
build records its window here first; the gates judge the hull of every window still
unpublished; a publication clears them. (A run killed after its publication and before
the clear only makes the next run read more than it needs.)

The same record lets a publication patch the published file (:mod:`.marts_file`) with
just the rows the unpublished windows changed, provided the published file is still the
one the last publication wrote (same inode, size and modification time): a file put back
from a backup, or written by anyone else, is replaced whole instead.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.gates.marts import mart_specs
from pipelines.gates.window import Window
from pipelines.settings import duckdb_config, table_exists
from pipelines.transform.manifest import Manifest

DDL = """
create schema if not exists audit;
create table if not exists audit.unpublished_windows (
    run_id       varchar not null,
    window_start date not null,
    window_end   date not null,
    built_at     timestamptz not null
);
create table if not exists audit.publications (
    run_id       varchar not null,
    window_start date not null,
    window_end   date not null,
    published_at timestamptz not null
);
create table if not exists audit.last_publication (
    published_at timestamptz not null,
    file_inode   bigint not null,
    file_size    bigint not null,
    file_mtime_ns bigint not null
);
"""


def _identity(path: Path) -> tuple[int, int, int]:
    stat = path.stat()
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def record_built(build_db: Path, run_id: str, window: Window) -> None:
    """Before dbt builds ``window``: its rows are unpublished until a publication."""
    with duckdb.connect(str(build_db), config=duckdb_config()) as con:
        record_unpublished(con, run_id, window)


def record_unpublished(con: duckdb.DuckDBPyConnection, cause: str, window: Window) -> None:
    """The rows of ``window`` may differ from the published file until a publication
    (``cause``: the run that built them, or the reopen that unfroze them)."""
    con.execute(DDL)
    con.execute(
        "insert into audit.unpublished_windows values (?, ?, ?, ?)",
        [cause, window.start, window.end, datetime.now(UTC)],
    )


def gated_window(build_db: Path, window: Window) -> Window:
    """``window`` widened to every business date built and not yet published."""
    if window.is_everything or not build_db.exists():
        return window
    with duckdb.connect(str(build_db), read_only=True, config=duckdb_config()) as con:
        if not table_exists(con, "audit", "unpublished_windows"):
            return window
        first, last = con.execute(
            "select min(window_start), max(window_end) from audit.unpublished_windows"
        ).fetchone()
    if first is None:
        return window
    return Window(min(first, window.start), max(last, window.end))


def clear_published(
    build_db: Path, marts_db: Path, run_id: str | None = None, window: Window | None = None
) -> None:
    """After a publication: every window built so far is published, in marts_db as it is;
    ``window`` (the dates the run gated and published) is recorded in audit.publications."""
    with duckdb.connect(str(build_db), config=duckdb_config()) as con:
        con.execute(DDL)
        if run_id is not None and window is not None and not window.is_everything:
            con.execute(
                "insert into audit.publications values (?, ?, ?, ?)",
                [run_id, window.start, window.end, datetime.now(UTC)],
            )
        con.execute("delete from audit.unpublished_windows")
        con.execute("delete from audit.last_publication")
        con.execute(
            "insert into audit.last_publication values (?, ?, ?, ?)",
            [datetime.now(UTC), *_identity(marts_db)],
        )


def publication_changes(
    build_db: Path, marts_db: Path, manifest: Manifest, window: Window
) -> dict[str, str | None] | None:
    """Which rows of each mart to carry into marts_db: those a run of ``window`` (already
    widened to the unpublished windows) changed, or None to copy every mart whole."""
    if window.is_everything or not marts_db.exists():
        return None
    with duckdb.connect(str(build_db), read_only=True, config=duckdb_config()) as con:
        last = (
            con.execute("select * from audit.last_publication").fetchall()
            if table_exists(con, "audit", "last_publication")
            else []
        )
    if len(last) != 1 or tuple(last[0][1:]) != _identity(marts_db):
        return None
    merges = manifest.relation("int_identity__key_merges")
    splits = manifest.relation("int_identity__key_splits")
    # A merge moves a customer's rows of any date to the survivor, a split some of them to
    # new keys: every row of the customers the window's merges and splits touched is
    # carried over too.
    moved = (
        f"customer_key in (select retired_customer_key from {merges} "
        f"where {window.sql('merged_on')} union all select survivor_customer_key "
        f"from {merges} where {window.sql('merged_on')} union all select split_customer_key "
        f"from {splits} where {window.sql('split_on')} union all select new_customer_key "
        f"from {splits} where {window.sql('split_on')})"
    )
    changes: dict[str, str | None] = {}
    for spec in mart_specs(manifest):
        condition = spec.changed_rows(window)
        if condition is not None and "customer_key" in spec.columns:
            condition = f"({condition}) or {moved}"
        changes[spec.name] = condition
    return changes
