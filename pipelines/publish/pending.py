"""Windows built into build.duckdb and not yet published.

A run's gates read what it changed (pipelines/gates/scope.py). A run that built its window
and then failed a gate leaves rows in build.duckdb that no gate passed; a later night's
publication copies build.duckdb's marts, so its gates must cover those rows too. Each dbt
build records its window here first; the gates judge the hull of every window still
unpublished; a publication clears them. (A run killed after its publication and before
the clear only makes the next run read more than it needs.)
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.gates.window import Window
from pipelines.settings import duckdb_config

DDL = """
create schema if not exists audit;
create table if not exists audit.unpublished_windows (
    run_id       varchar not null,
    window_start date not null,
    window_end   date not null,
    built_at     timestamptz not null
);
"""


def record_built(build_db: Path, run_id: str, window: Window) -> None:
    """Before dbt builds ``window``: its rows are unpublished until a publication."""
    with duckdb.connect(str(build_db), config=duckdb_config()) as con:
        con.execute(DDL)
        con.execute(
            "insert into audit.unpublished_windows values (?, ?, ?, ?)",
            [run_id, window.start, window.end, datetime.now(UTC)],
        )


def gated_window(build_db: Path, window: Window) -> Window:
    """``window`` widened to every business date built and not yet published."""
    if window.is_everything or not build_db.exists():
        return window
    with duckdb.connect(str(build_db), read_only=True, config=duckdb_config()) as con:
        exists = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'audit' and table_name = 'unpublished_windows'"
        ).fetchone()[0]
        if not exists:
            return window
        first, last = con.execute(
            "select min(window_start), max(window_end) from audit.unpublished_windows"
        ).fetchone()
    if first is None:
        return window
    return Window(min(first, window.start), max(last, window.end))


def clear_published(build_db: Path) -> None:
    """After a publication: every window built so far is published."""
    with duckdb.connect(str(build_db), config=duckdb_config()) as con:
        con.execute(DDL)
        con.execute("delete from audit.unpublished_windows")
