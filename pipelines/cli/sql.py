"""``yecai sql``: the published marts, read-only, for a person at a terminal."""

from __future__ import annotations

import argparse
import sys

import duckdb
import polars as pl

from pipelines.cli.common import EXIT_USAGE, settings_of
from pipelines.settings import duckdb_config, sql_literal

# A spreadsheet opening a CSV runs a cell that starts with one of these as a formula.
FORMULA_START = r"^[=+\-@\t\r]"


def spreadsheet_safe(frame):
    """Text cells that a spreadsheet would run as a formula (CSV injection: `=cmd|...`) get a
    leading apostrophe, as OWASP advises; numbers and other text are left as they are."""
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(FORMULA_START))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name, dtype in frame.schema.items()
        if dtype == pl.String
    )


def _flat(relation: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """Nested values (lists, structs, maps) as their text, so CSV can hold them."""
    nested = ("[]", "STRUCT(", "MAP(", "UNION(")
    if not any(any(n in str(t) for n in nested) for t in relation.types):
        return relation
    columns = ", ".join(
        f'cast("{c}" as varchar) as "{c}"' if any(n in str(t) for n in nested) else f'"{c}"'
        for c, t in zip(relation.columns, relation.types, strict=True)
    )
    return relation.project(columns)


def cmd_sql(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    if not settings.marts_db.exists():
        print(
            f"no published marts at {settings.marts_db}: run `yecai run` (or `yecai demo`) first",
            file=sys.stderr,
        )
        return EXIT_USAGE
    config = {**duckdb_config(), "enable_external_access": False}
    try:
        con = duckdb.connect(str(settings.marts_db), read_only=True, config=config)
    except duckdb.Error as exc:
        print(f"cannot open {settings.marts_db}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        # Set once the time zone support is loaded (not at connect), then locked: a query
        # may not change it, nor re-enable file access.
        con.execute(f"set TimeZone = {sql_literal(args.timezone)}")
        con.execute("set lock_configuration = true")
    except duckdb.Error as exc:
        con.close()
        print(f"--timezone {args.timezone}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    with con:
        # Errors can come while the query runs, or only while its rows are fetched (a cast
        # that fails on a later row, error(), a subquery returning many rows).
        try:
            statements = con.extract_statements(args.query)
            if args.csv and len(statements) > 1:
                print(
                    f"--csv writes one result: give one statement, not {len(statements)}",
                    file=sys.stderr,
                )
                return EXIT_USAGE
            for statement in statements:  # each result, in order
                relation = con.sql(statement.query)
                if relation is None:
                    continue
                if args.csv:
                    spreadsheet_safe(_flat(relation).pl()).write_csv(sys.stdout)
                else:
                    relation.show(max_rows=args.max_rows, max_width=200)
        except duckdb.Error as exc:
            print(f"query failed: {exc}", file=sys.stderr)
            return EXIT_USAGE
    return 0
