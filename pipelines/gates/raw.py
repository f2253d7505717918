"""The raw gate's contract suite: every rule of a source's contract holds on the rows
loaded for the window (generated from ``data_contracts/``).

The batch is the window's lake partitions when the lake is given (a run's gates), else
the staging view filtered to the window (the audit and the definitions' listing)."""

from __future__ import annotations

from pathlib import Path

import great_expectations as gx

from pipelines.contracts import Column, Contract
from pipelines.gates.sql import literal, render
from pipelines.gates.suite import Expectation, GateSuite, Suite, unexpected
from pipelines.gates.window import Window
from pipelines.ingest.lake import partition_dir
from pipelines.transform.manifest import Manifest

GATE = "gate_raw"
STAGING_MODELS = {
    "sales": "stg_sales__order_lines",
    "inventory": "stg_inventory__snapshots",
    "consultations": "stg_consultations__prescription_items",
    "ledger": "stg_ledger__journal_lines",
}


def _column_expectations(column: Column, manifest: Manifest) -> list[Expectation]:
    name = column.name
    if column.is_pii:
        token = f"{name}_token"
        query = render("raw/token_shape.sql", manifest, token_column=token)
        return [unexpected(query, f"{token} holds tokens only")]
    found: list[Expectation] = []
    if column.required:
        found.append(
            Expectation(
                gx.expectations.ExpectColumnValuesToNotBeNull(column=name),
                f"{name} is never empty",
            )
        )
    if column.valid_values:
        found.append(
            Expectation(
                gx.expectations.ExpectColumnValuesToBeInSet(
                    column=name, value_set=list(column.valid_values)
                ),
                f"{name} in {', '.join(column.valid_values)}",
            )
        )
    if column.pattern:
        query = render("raw/pattern.sql", manifest, column=name, pattern=column.pattern)
        found.append(unexpected(query, f"{name} matches the contract's pattern"))
    if column.minimum is not None or column.maximum is not None:
        found.append(
            Expectation(
                gx.expectations.ExpectColumnValuesToBeBetween(
                    column=name,
                    min_value=float(column.minimum) if column.minimum is not None else None,
                    max_value=float(column.maximum) if column.maximum is not None else None,
                ),
                f"{name} within its bounds",
            )
        )
    return found


def _batch(source: str, window: Window, manifest: Manifest, lake: Path | None) -> str:
    """The window's rows as the staging model shows them (its columns, its types)."""
    folders = (
        [
            str(folder)
            for folder in (partition_dir(lake, source, day) for day in window.days())
            if folder.is_dir()
        ]
        if lake is not None and not window.is_everything
        else []
    )
    if folders:
        files = "[" + ", ".join(literal(f"{folder}/*.parquet") for folder in folders) + "]"
        return render("raw/lake_batch.sql", manifest, files=files, window=window)
    return render("raw/batch.sql", manifest, model=STAGING_MODELS[source], window=window)


def raw_suite(
    contract: Contract, window: Window, manifest: Manifest, lake: Path | None = None
) -> GateSuite:
    model = STAGING_MODELS[contract.source]
    expectations = [e for c in contract.columns for e in _column_expectations(c, manifest)]
    expectations.append(
        Expectation(
            gx.expectations.ExpectCompoundColumnsToBeUnique(column_list=list(contract.primary_key)),
            f"key ({', '.join(contract.primary_key)}) unique",
        )
    )
    expectations += [
        unexpected(
            render("raw/row_rule.sql", manifest, condition=rule.condition),
            f"rule {rule.name}: {rule.description}",
        )
        for rule in contract.row_rules
    ]
    expectations += [
        unexpected(
            render(
                "raw/set_rule.sql",
                manifest,
                query=rule.query.replace("${object}", "{batch}"),
                must_be=rule.must_be,
            ),
            f"rule {rule.name}: {rule.description}",
        )
        for rule in contract.set_rules
    ]
    batch = _batch(contract.source, window, manifest, lake)
    return GateSuite(
        GATE, ("staging", model), Suite(f"raw_{contract.source}", batch, tuple(expectations))
    )
