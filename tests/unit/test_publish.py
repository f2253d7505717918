"""Publishing marts.duckdb: only marts, bare names, replaced atomically under open readers."""

import subprocess
import sys

import duckdb
import pytest

from pipelines.publish.marts_file import publish


def _build(path, revenue: str) -> None:
    with duckdb.connect(str(path)) as con:
        for schema in ("marts", "staging", "audit"):
            con.execute(f"create schema if not exists {schema}")
        con.execute(
            "create or replace table marts.fct_sales_margin as "
            f"select {revenue}::decimal(18,2) as revenue"
        )
        con.execute("create or replace table audit.ingest_files as select 'x' as file_name")
        con.execute("create or replace view staging.stg as select 1 as one")


def test_only_marts_are_published_under_bare_names(tmp_path):
    build, marts = tmp_path / "build.duckdb", tmp_path / "marts.duckdb"
    _build(build, "10.00")
    publication = publish(build, marts)
    assert publication.tables == {"fct_sales_margin": 1}
    with duckdb.connect(str(marts), read_only=True) as con:
        assert con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall() == [("main", "fct_sales_margin")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["build.duckdb", "marts.duckdb"]


def test_a_reader_keeps_its_snapshot_and_a_new_one_sees_the_new_file(tmp_path):
    build, marts = tmp_path / "build.duckdb", tmp_path / "marts.duckdb"
    _build(build, "10.00")
    publish(build, marts)
    reader = duckdb.connect(str(marts), read_only=True)
    try:
        _build(build, "20.00")
        publish(build, marts)  # the reader's open file does not block the writer
        assert reader.execute("select revenue from fct_sales_margin").fetchone()[0] == 10
        # An analyst connecting now (another process) sees the new file.
        query = "select revenue from fct_sales_margin"
        fresh = subprocess.run(
            [
                sys.executable,
                "-c",
                f"import duckdb; print(duckdb.connect({str(marts)!r}, "
                f"read_only=True).execute({query!r}).fetchone()[0])",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        assert fresh.stdout.strip() == "20.00"
    finally:
        reader.close()


def test_nothing_to_publish_is_an_error_and_keeps_the_old_file(tmp_path):
    build, marts = tmp_path / "build.duckdb", tmp_path / "marts.duckdb"
    _build(build, "10.00")
    publish(build, marts)
    before = marts.read_bytes()
    with duckdb.connect(str(build)) as con:
        con.execute("drop table marts.fct_sales_margin")
    with pytest.raises(RuntimeError, match="nothing to publish"):
        publish(build, marts)
    assert marts.read_bytes() == before


def _killed_read_write_session(marts) -> None:
    """An analyst opens the published file read-write, changes it, and is killed: the
    change is in marts.duckdb.wal, never checkpointed."""
    script = (
        f"import duckdb, os; con = duckdb.connect({str(marts)!r}); "
        "con.execute('set checkpoint_threshold = \\'1TB\\''); "
        "con.execute('create table scratch as select 1 as x'); os._exit(0)"
    )
    subprocess.run([sys.executable, "-c", script], check=True)


def test_a_stale_wal_left_by_an_analyst_does_not_break_the_next_publication(tmp_path):
    build, marts = tmp_path / "build.duckdb", tmp_path / "marts.duckdb"
    _build(build, "10.00")
    publish(build, marts)
    _killed_read_write_session(marts)
    assert marts.with_name("marts.duckdb.wal").exists()
    _build(build, "20.00")
    publication = publish(build, marts)
    assert publication.stale_wal_removed
    assert not marts.with_name("marts.duckdb.wal").exists()
    fresh = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import duckdb; print(duckdb.connect({str(marts)!r}, read_only=True)"
            ".execute('select revenue from fct_sales_margin').fetchone()[0])",
        ],
        capture_output=True,
        text=True,
    )
    assert fresh.returncode == 0, fresh.stderr
    assert fresh.stdout.strip() == "20.00"
