"""Publishing marts.duckdb: only marts, bare names, replaced atomically under open readers."""

import subprocess
import sys
from datetime import date
from decimal import Decimal

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


def _dated_build(path, rows: list[tuple[str, str]], profile_rows: int) -> None:
    """A build with a dated mart (patchable by date) and a table rebuilt whole."""
    values = ", ".join(f"(date '{day}', {amount}::decimal(18,2))" for day, amount in rows)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists marts")
        con.execute(
            "create or replace table marts.fct_margin_daily as "
            f"select * from (values {values}) as t(business_date, revenue)"
        )
        con.execute(
            "create or replace table marts.customer_profile as "
            f"select range as customer from range({profile_rows})"
        )


def _tables(path) -> dict[str, list]:
    with duckdb.connect(str(path), read_only=True) as con:
        names = [n for (n,) in con.execute("select table_name from duckdb_tables()").fetchall()]
        return {n: sorted(con.execute(f"select * from {n}").fetchall()) for n in sorted(names)}


def _mart_tables(build) -> dict[str, list]:
    with duckdb.connect(str(build), read_only=True) as con:
        names = [
            n
            for (n,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts'"
            ).fetchall()
        ]
        return {
            n: sorted(con.execute(f"select * from marts.{n}").fetchall()) for n in sorted(names)
        }


def test_a_patch_carries_the_changed_rows_and_leaves_the_rest_as_published(tmp_path):
    build, marts = tmp_path / "build.duckdb", tmp_path / "marts.duckdb"
    _dated_build(build, [("2024-01-01", "1.00"), ("2024-01-02", "2.00")], profile_rows=3)
    publish(build, marts)
    # The next night rewrites 2 January, adds 3 January and rebuilds the profile. The
    # published 1 January row is planted with a value the build does not have: a patch
    # must leave it alone (only the changed dates are carried), a full copy would not.
    _dated_build(
        build,
        [("2024-01-01", "1.00"), ("2024-01-02", "2.50"), ("2024-01-03", "3.00")],
        profile_rows=4,
    )
    with duckdb.connect(str(marts)) as con:
        con.execute("update fct_margin_daily set revenue = 9 where business_date = '2024-01-01'")
    changed = {
        "fct_margin_daily": "business_date between date '2024-01-02' and date '2024-01-03'",
        "customer_profile": None,
    }
    publication = publish(build, marts, changed)
    assert publication.patched == ("fct_margin_daily",)
    published = _tables(marts)
    assert published["fct_margin_daily"] == sorted(
        [
            (date(2024, 1, 1), Decimal("9.00")),
            (date(2024, 1, 2), Decimal("2.50")),
            (date(2024, 1, 3), Decimal("3.00")),
        ]
    )
    assert published["customer_profile"] == _mart_tables(build)["customer_profile"]
    assert publication.tables == {"customer_profile": 4, "fct_margin_daily": 3}


def test_a_mart_whose_columns_changed_is_copied_whole(tmp_path):
    build, marts = tmp_path / "build.duckdb", tmp_path / "marts.duckdb"
    _dated_build(build, [("2024-01-01", "1.00")], profile_rows=1)
    publish(build, marts)
    with duckdb.connect(str(build)) as con:
        con.execute("alter table marts.fct_margin_daily add column margin decimal(18,2)")
        con.execute("update marts.fct_margin_daily set margin = 0.5")
    changed = {"fct_margin_daily": "business_date = date '2024-01-02'", "customer_profile": None}
    publication = publish(build, marts, changed)
    assert publication.patched == ()
    assert _tables(marts) == _mart_tables(build)


def test_a_published_file_not_written_by_the_last_publication_is_replaced_whole(
    tmp_path, monkeypatch
):
    """A marts.duckdb put back from a backup, or replaced by hand, is no base for a patch."""
    from pipelines.gates.window import Window
    from pipelines.publish import pending

    build, marts = tmp_path / "build.duckdb", tmp_path / "marts.duckdb"
    _dated_build(build, [("2024-01-01", "1.00")], profile_rows=1)
    publish(build, marts)
    pending.clear_published(build, marts)
    monkeypatch.setattr(pending, "mart_specs", lambda manifest: [])

    class Merges:
        def relation(self, name):
            return '"build"."intermediate"."int_identity__key_merges"'

    window = Window(date(2024, 1, 2), date(2024, 1, 2))
    assert pending.publication_changes(build, marts, Merges(), window) == {}
    with duckdb.connect(str(marts)) as con:  # someone writes the published file
        con.execute("create table scratch as select 1 as x")
    assert pending.publication_changes(build, marts, Merges(), window) is None
