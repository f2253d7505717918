"""Render dbt source definitions for the raw and quarantine lakes from the data contracts.

``make contracts`` (``python -m pipelines.transform.dbt_sources``) writes
``dbt_project/models/staging/<source>/_<source>__sources.yml``; a test fails when a
committed file differs from what the contract gives, so dbt and the contracts never drift.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl
import yaml

from pipelines.contracts import Contract, load_contracts
from pipelines.settings import DBT_PROJECT_DIR

HEADER = "# Generated from data_contracts/{source}.odcs.yaml by `make contracts`: do not edit.\n"
LAKE_READER = (
    'read_parquet(\'{{{{ env_var("YECAI_HOME") | replace("\'", "\'\'") }}}}'
    "/lake/{zone}/{source}/*/*.parquet', "
    "hive_partitioning = true, union_by_name = true)"
)


def duckdb_type(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Decimal):
        return f"DECIMAL({dtype.precision},{dtype.scale})"
    if isinstance(dtype, pl.List):
        inner = dtype.inner
        return f"{duckdb_type(inner() if isinstance(inner, type) else inner)}[]"
    return {
        pl.String: "VARCHAR",
        pl.Int32: "INTEGER",
        pl.Int64: "BIGINT",
        pl.Date: "DATE",
        pl.Boolean: "BOOLEAN",
    }.get(type(dtype), "TIMESTAMPTZ" if isinstance(dtype, pl.Datetime) else None) or str(dtype)


def _columns(contract: Contract, schema: dict[str, pl.DataType]) -> list[dict]:
    described = {c.name: c for c in contract.columns}
    columns = []
    for name, dtype in schema.items():
        base = name.removesuffix("_token").removesuffix("_masked").removesuffix("_valid")
        column = described.get(name) or described.get(base)
        if name.endswith("_token") and column is not None:
            text = f"HMAC-SHA256 token of the normalised {base} ({column.pii_kind})."
        elif name.endswith("_masked") and column is not None:
            text = f"Masked display form of {base}."
        elif name.endswith("_valid") and column is not None and column.is_pii:
            text = (
                f"Whether {base} passes its {column.pii_kind} rule (the check digit); "
                "a value that fails is kept as the typo it is (null: no value)."
            )
        elif name == "_source_file":
            text = "Landing file the row came from."
        elif name == "_source_row_number":
            text = "Row number in that file (1 = first row after the header)."
        elif name == "_reason":
            text = "Why the row was quarantined: the rules it broke."
        else:
            text = column.description if column is not None else ""
        columns.append({"name": name, "data_type": duckdb_type(dtype), "description": text})
    columns.append(
        {
            "name": "business_date",
            "data_type": "DATE",
            "description": "Business date of the delivery (hive partition of the lake).",
        }
    )
    return columns


def render(contract: Contract) -> str:
    source = contract.source
    document = {
        "version": 2,
        "sources": [
            {
                "name": source,
                "description": (
                    f"The {source} extract as ingested into the Parquet lake under the contract "
                    f"{contract.path.name} v{contract.version} (owner: {contract.owner})."
                ),
                "tables": [
                    {
                        "name": "lake_raw",
                        "description": f"Loaded {source} rows: typed, PII tokenised.",
                        "meta": {
                            "external_location": LAKE_READER.format(zone="raw", source=source)
                        },
                        "columns": _columns(contract, contract.lake_schema()),
                    },
                    {
                        "name": "lake_quarantine",
                        "description": f"Quarantined {source} rows with the reason, as text.",
                        "meta": {
                            "external_location": LAKE_READER.format(
                                zone="quarantine", source=source
                            )
                        },
                        "columns": _columns(contract, contract.quarantine_schema()),
                    },
                ],
            }
        ],
    }
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    return HEADER.format(source=source) + body


def path_for(source: str, project_dir: Path = DBT_PROJECT_DIR) -> Path:
    return project_dir / "models" / "staging" / source / f"_{source}__sources.yml"


def main() -> int:
    for source, contract in load_contracts().items():
        target = path_for(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render(contract), encoding="utf-8")
        print(f"wrote {target.relative_to(DBT_PROJECT_DIR.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
