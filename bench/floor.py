"""The DuckDB floor of each phase: the same work done by hand in one DuckDB process, no
orchestration, no incremental bookkeeping, nothing checked twice.

- ingest: each source's landing files read by DuckDB, cast to the contract's types,
  personal data hashed (sha256 of key and value: DuckDB has no HMAC), written to a
  Parquet lake partitioned by business date. No row checks, no quarantine, no audit.
- dbt: ``bench/floor.sql``, every mart from the pipeline's raw lake and the seeds.
- gates: every expectation of the run's gate suites as the plain SQL count it stands for.
- publish: the floor's marts copied into a new DuckDB file.

``compare_marts`` then checks the floor's marts against the published ones row for row,
so the floor is known to compute the same tables.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import duckdb

from pipelines.contracts import load_contract
from pipelines.gates.config import load_gate_config
from pipelines.gates.run import gate_suites
from pipelines.gates.suite import Suite
from pipelines.gates.window import Window
from pipelines.settings import SEEDS_DIR, SOURCES, Settings

FLOOR_SQL = Path(__file__).with_name("floor.sql")
FLOOR_SCHEMA = "floor"
TOKEN_KEY = "floor-key"  # a stand-in: the floor only has to pay for hashing


@dataclass
class FloorResult:
    phases: dict[str, float]  # phase → seconds
    rows_ingested: int
    marts_equal: dict[str, bool]  # published mart → the floor computed the same rows


def _landing_select(source: str, landing: Path) -> str:
    """One source's landing files, typed and tokenised by DuckDB alone."""
    contract = load_contract(source)

    def typed(text: bool) -> str:
        columns = []
        for column in contract.columns:
            name = column.name
            if column.is_pii:
                columns.append(
                    f"sha256('{TOKEN_KEY}' || {name}) as {name}_token, "
                    f"left({name}, 1) || '***' as {name}_masked"
                )
            elif text:
                # trim() also keeps DuckDB from pushing the cast into the CSV reader, where
                # it is not a try_cast any more (one bad value fails the whole read).
                columns.append(f"try_cast(trim({name}) as {column.physical_type}) as {name}")
            else:
                columns.append(f"cast({name} as {column.physical_type}) as {name}")
        business_date = "regexp_extract(filename, '/(\\d{4}-\\d{2}-\\d{2})/', 1)"
        return (
            f"select {', '.join(columns)}, filename as _source_file, "
            f"cast({business_date} as date) as business_date"
        )

    readers = []
    if any(landing.glob(f"{source}/*/*.csv")):
        readers.append(
            f"{typed(text=True)} from read_csv('{landing}/{source}/*/*.csv', "
            "all_varchar = true, header = true, filename = true)"
        )
    if any(landing.glob(f"{source}/*/*.parquet")):
        readers.append(
            f"{typed(text=False)} from read_parquet('{landing}/{source}/*/*.parquet', "
            "filename = true)"
        )
    return " union all ".join(readers)


def ingest_floor(settings: Settings, scratch: Path) -> tuple[float, int]:
    """Landing → a typed, tokenised Parquet lake under scratch, in one DuckDB process."""
    lake = scratch / "lake"
    shutil.rmtree(lake, ignore_errors=True)
    lake.mkdir(parents=True)
    rows = 0
    started = time.perf_counter()
    with duckdb.connect() as con:
        for source in SOURCES:
            query = _landing_select(source, settings.landing)
            [(count,)] = con.execute(
                f"copy ({query}) to '{lake / source}' "
                "(format parquet, compression zstd, partition_by (business_date))"
            ).fetchall()
            rows += int(count)
    return time.perf_counter() - started, rows


def transform_floor(settings: Settings, floor_db: Path) -> float:
    """bench/floor.sql over the pipeline's raw lake, into floor_db."""
    floor_db.unlink(missing_ok=True)
    started = time.perf_counter()
    with duckdb.connect(str(floor_db)) as con:
        con.execute(f"set variable lake = '{settings.lake}'")
        con.execute(f"set variable seeds = '{SEEDS_DIR}'")
        con.execute(FLOOR_SQL.read_text(encoding="utf-8"))
    return time.perf_counter() - started


def count_query(suite: Suite, expectation) -> str:
    """The plain SQL count a GX expectation stands for (its unexpected rows)."""
    batch = f"({suite.query}) as batch"
    kind = type(expectation).__name__
    if kind == "UnexpectedRowsExpectation":
        query = (
            expectation.unexpected_rows_query.replace("{batch}", f"({suite.query})")
            .replace("{{", "{")
            .replace("}}", "}")
        )
        return f"select count(*) from ({query}) as unexpected"
    if kind == "ExpectColumnValuesToNotBeNull":
        return f"select count(*) from {batch} where {expectation.column} is null"
    if kind == "ExpectColumnValuesToBeInSet":
        values = ", ".join(f"'{v}'" for v in expectation.value_set)
        return f"select count(*) from {batch} where {expectation.column} not in ({values})"
    if kind == "ExpectColumnValuesToBeBetween":
        bounds = []
        if expectation.min_value is not None:
            bounds.append(f"{expectation.column} < {expectation.min_value}")
        if expectation.max_value is not None:
            bounds.append(f"{expectation.column} > {expectation.max_value}")
        return f"select count(*) from {batch} where {' or '.join(bounds)}"
    if kind == "ExpectColumnValuesToBeUnique":
        column = expectation.column
        return (
            f"select count(*) from (select {column} from {batch} where {column} is not null "
            f"group by {column} having count(*) > 1) as repeated"
        )
    if kind == "ExpectCompoundColumnsToBeUnique":
        key = ", ".join(expectation.column_list)
        return (
            f"select count(*) from (select {key} from {batch} group by {key} "
            "having count(*) > 1) as repeated"
        )
    raise ValueError(f"no plain SQL count for {kind}: add it to bench/floor.py")


def gates_floor(settings: Settings, window: tuple) -> float:
    """Every expectation of the window's gate suites as one count query, on build.duckdb."""
    suites = gate_suites(Window(*window), load_gate_config(), settings.raw_lake)
    queries = [count_query(s.suite, e.gx_expectation) for s in suites for e in s.suite.expectations]
    started = time.perf_counter()
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        for query in queries:
            con.execute(query).fetchall()
    return time.perf_counter() - started


def publish_floor(floor_db: Path, published: Path, tables: list[str]) -> float:
    published.unlink(missing_ok=True)
    started = time.perf_counter()
    with duckdb.connect(str(published)) as con:
        con.execute(f"attach '{floor_db}' as floor_db (read_only)")
        for table in tables:
            con.execute(f"create table {table} as select * from floor_db.{FLOOR_SCHEMA}.{table}")
        con.execute("checkpoint")
    return time.perf_counter() - started


def compare_marts(floor_db: Path, marts_db: Path) -> dict[str, bool]:
    """Each published mart against the floor's table of the same name, as multisets of rows."""
    equal = {}
    with duckdb.connect(str(marts_db), read_only=True) as con:
        con.execute(f"attach '{floor_db}' as floor_db (read_only)")
        floor_tables = {
            t
            for (t,) in con.execute(
                "select table_name from duckdb_tables() "
                "where database_name = 'floor_db' and schema_name = ?",
                [FLOOR_SCHEMA],
            ).fetchall()
        }
        # Marts the floor does not compute (added since it was written) are not compared.
        tables = [t for (t,) in con.execute("show tables").fetchall() if t in floor_tables]
        for table in tables:
            # The columns both have (period close added adjustment columns the floor does
            # not compute).
            columns = ", ".join(
                f'"{c}"'
                for (c,) in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_catalog = current_database() and table_name = ? "
                    "and column_name in (select column_name from information_schema.columns "
                    "where table_catalog = 'floor_db' and table_schema = ? and table_name = ?) "
                    "order by ordinal_position",
                    [table, FLOOR_SCHEMA, table],
                ).fetchall()
            )
            published = f"select {columns} from main.{table}"
            floor = f"select {columns} from floor_db.{FLOOR_SCHEMA}.{table}"
            try:
                [(differ,)] = con.execute(
                    f"select count(*) from (({published} except all {floor}) "
                    f"union all ({floor} except all {published}))"
                ).fetchall()
            except duckdb.Error:  # the floor's table no longer matches the mart's shape
                differ = None
            equal[table] = differ == 0
    return equal


def run_floor(settings: Settings, scratch: Path, window: tuple) -> FloorResult:
    """Every phase's floor for a home the pipeline has just run and published (its scratch
    files are left under ``scratch``)."""
    scratch.mkdir(parents=True, exist_ok=True)
    floor_db = scratch / "floor_build.duckdb"
    ingest_seconds, rows = ingest_floor(settings, scratch)
    dbt_seconds = transform_floor(settings, floor_db)
    gates_seconds = gates_floor(settings, window)
    equal = compare_marts(floor_db, settings.marts_db)
    publish_seconds = publish_floor(floor_db, scratch / "marts.duckdb", sorted(equal))
    return FloorResult(
        phases={
            "ingest": ingest_seconds,
            "dbt": dbt_seconds,
            "gates": gates_seconds,
            "publish": publish_seconds,
        },
        rows_ingested=rows,
        marts_equal=equal,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="the DuckDB floor of a published home")
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--start", type=date.fromisoformat, required=True)
    parser.add_argument("--end", type=date.fromisoformat, required=True)
    args = parser.parse_args()
    settings = Settings(home=args.home)
    result = run_floor(settings, args.home / "floor", (args.start, args.end))
    print(json.dumps(asdict(result)))


if __name__ == "__main__":
    main()
