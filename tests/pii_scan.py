"""Find raw personal data: the values the sources delivered, and anything shaped like it."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import polars as pl

from pipelines import pii
from pipelines.contracts import load_contract

# Tokens, customer keys and Dagster's code versions and snapshot ids are hashes (32 to 64
# hex digits), and run ids are random UUIDs: not personal data, but their digits can form
# runs shaped like a phone (a CI run found one in a 40-digit snapshot id), so they are
# removed before looking at shapes. Delivered values are still searched for as they are.
UUID_SHAPE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
TOKEN_SHAPES = rf"[0-9a-f]{{32,}}|[CP][0-9A-F]{{16}}|{UUID_SHAPE}"
# Logs hold timings as floats; a fraction of exactly 11 digits starting 13-19 ("0.13412345678")
# is shaped like a mobile number (a CI run found one). No phone is written after a decimal point.
FRACTION_SHAPE = r"(?<=[0-9])\.[0-9]+"
PATTERNS = {
    "mobile": r"(?<![0-9])(\+?86[ -]?|0086[ -]?)?1[3-9][0-9]{9}(?![0-9])",
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z.]{2,}",
    "id_number": r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])",
}
# DuckDB's RE2 has no look-around: the same shapes, bounded by non-digits.
SQL_PATTERNS = {
    "mobile": r"(^|[^0-9])1[3-9][0-9]{9}([^0-9]|$)",
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z.]{2,}",
    "id_number": r"(^|[^0-9])[0-9]{17}[0-9Xx]([^0-9]|$)",
}


def raw_pii_values(landing: Path) -> set[str]:
    """Every personal value delivered, as written and normalised (names: as written)."""
    values: set[str] = set()
    for source in ("sales", "consultations"):
        columns = load_contract(source).pii_columns
        for path in sorted((landing / source).rglob("*.csv")):
            try:
                frame = pl.read_csv(path, infer_schema=False)
            except Exception:  # an injected unreadable file holds nothing new
                continue
            for column in columns:
                if column.name not in frame.columns:
                    continue
                written = frame[column.name].drop_nulls()
                normalised = pl.select(pii.normalise(column.pii_kind, pl.lit(written))).to_series()
                values.update(v for v in written.to_list() if len(v.strip()) > 1)
                values.update(v for v in normalised.drop_nulls().to_list() if len(v) > 1)
    return values


def text_findings(text: str, values: set[str]) -> list[str]:
    shapes = re.sub(FRACTION_SHAPE, "", re.sub(TOKEN_SHAPES, "", text))
    found = [name for name, pattern in PATTERNS.items() if re.search(pattern, shapes)]
    found += [f"value {v[:3]}…" for v in values if len(v) >= 6 and v in text]
    return found


def _relations(con: duckdb.DuckDBPyConnection, data_type: str) -> list[tuple[str, str, str]]:
    return con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where data_type = ? and table_schema <> 'temp' and table_name <> 'pii_values' "
        "order by 1, 2, 3",
        [data_type],
    ).fetchall()


def _counted(
    con: duckdb.DuckDBPyConnection, name: str, rows: str, condition: str, what: str
) -> list[str]:
    """``name: <n> <what>`` when ``rows`` has rows meeting ``condition``, else nothing."""
    [(count,)] = con.execute(f"select count(*) from {rows} where {condition}").fetchall()
    return [f"{name}: {count} {what}"] if count else []


def _list_findings(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Lists of text (the comparison features beside each token): every element a
    feature token, none a delivered value."""
    findings = []
    for schema, table, column in _relations(con, "VARCHAR[]"):
        name = f'"{schema}"."{table}"."{column}"'
        elements = f'(select unnest("{column}") as e from "{schema}"."{table}")'
        findings += _counted(
            con, name, elements, "e in (select v from pii_values)", "delivered value(s)"
        )
        findings += _counted(
            con,
            name,
            elements,
            "not regexp_full_match(e, '[0-9a-f]{16}')",
            "element(s) that are not feature tokens",
        )
    return findings


def duckdb_findings(con: duckdb.DuckDBPyConnection, values: set[str]) -> list[str]:
    """(schema.table.column: what) for every text column, or list of texts, holding raw
    personal data."""
    con.execute(
        "create or replace temp table pii_values as select unnest($1::varchar[]) as v",
        [sorted(values)],
    )
    findings = _list_findings(con)
    for schema, table, column in _relations(con, "VARCHAR"):
        name = f'"{schema}"."{table}"."{column}"'
        source = f'"{schema}"."{table}"'
        findings += _counted(
            con, name, source, f'"{column}" in (select v from pii_values)', "delivered value(s)"
        )
        if column.endswith("_token"):
            findings += _counted(
                con,
                name,
                source,
                f'"{column}" is not null and not regexp_full_match("{column}", \'[0-9a-f]{{64}}\')',
                "value(s) that are not tokens",
            )
            continue
        for kind, pattern in SQL_PATTERNS.items():
            value = f"""regexp_replace("{column}", '{TOKEN_SHAPES}', '', 'g')"""
            findings += _counted(
                con,
                name,
                source,
                f"regexp_matches({value}, '{pattern}')",
                f"value(s) shaped like a {kind}",
            )
    return findings


def database_findings(path: Path, values: set[str]) -> list[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        return duckdb_findings(con, values)


def lake_findings(lake: Path, values: set[str]) -> list[str]:
    findings = []
    with duckdb.connect() as con:
        for zone in ("raw", "quarantine", "identity_features"):
            for folder in sorted((lake / zone).glob("*")):
                files = sorted(folder.rglob("*.parquet"))
                if not files:
                    continue
                con.execute(
                    f'create or replace table "{zone}_{folder.name}" as '
                    f"select * from read_parquet({[str(f) for f in files]}, union_by_name = true)"
                )
        findings = duckdb_findings(con, values)
    return findings
