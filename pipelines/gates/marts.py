"""The marts gate, read from the dbt project itself: the keys of each mart's unique tests,
its expression tests, and every DECIMAL money column its contract says is not null.

A run's gate reads the rows the run changed (:mod:`.scope`); a key of those rows must
still be unique across the whole mart, so uniqueness looks up every row holding it."""

from __future__ import annotations

from dataclasses import dataclass

import great_expectations as gx

from pipelines.gates.scope import ChangedRows, as_built_model, changed_rows
from pipelines.gates.sql import render
from pipelines.gates.suite import Expectation, GateSuite, mart_suite, unexpected
from pipelines.gates.window import Window
from pipelines.transform.manifest import Manifest

MARTS_SCHEMA = "marts"


@dataclass(frozen=True)
class MartSpec:
    name: str
    relation: str
    keys: tuple[tuple[str, ...], ...]
    expressions: tuple[str, ...]
    money: tuple[str, ...]
    text_columns: tuple[str, ...]
    changed: ChangedRows | None = None  # None: a run may change any row
    columns: tuple[str, ...] = ()
    period_column: str | None = None  # the month its figures belong to (period close)
    as_built: str | None = None  # a closing mart's as-built model: what runs change
    as_built_rows: str = "true"  # which of its rows the mart shows (meta.as_built_where)

    def changed_rows(self, window: Window) -> str | None:
        """The condition selecting the rows a run of ``window`` changed (None: all)."""
        return self.changed.condition(window) if self.changed else None

    def suite(
        self, gate: str, suite_name: str, window: Window, *expectations: Expectation
    ) -> GateSuite:
        """A suite of ``gate`` whose batch is the rows of this mart a run of ``window``
        changed."""
        return mart_suite(
            gate,
            self.name,
            self.relation,
            suite_name,
            *expectations,
            where=self.changed_rows(window),
        )


def _spec(node: dict, manifest: Manifest) -> MartSpec:
    keys, expressions = [], []
    for test in manifest.generic_tests(node["unique_id"]):
        kwargs = test.get("kwargs", {})
        if test["name"] == "unique_combination":
            keys.append(tuple(kwargs["columns"]))
        elif test["name"] == "unique":
            keys.append((kwargs["column_name"],))
        elif test["name"] == "expression_is_true":
            expressions.append(kwargs["expression"])
    columns = node["columns"]
    meta = node["config"].get("meta") or {}
    upstream = as_built_model(node)
    return MartSpec(
        name=node["name"],
        relation=node["relation_name"],
        keys=tuple(keys),
        expressions=tuple(expressions),
        money=tuple(
            c
            for c, spec in columns.items()
            if (spec.get("data_type") or "").lower() == "decimal(18,2)"
            and any(k.get("type") == "not_null" for k in spec.get("constraints", []))
        ),
        text_columns=tuple(
            c for c, spec in columns.items() if (spec.get("data_type") or "").lower() == "varchar"
        ),
        changed=changed_rows(node, manifest),
        columns=tuple(columns),
        period_column=meta.get("period_column"),
        as_built=manifest.nodes[upstream]["relation_name"] if upstream else None,
        as_built_rows=meta.get("as_built_where", "true"),
    )


def mart_specs(manifest: Manifest) -> list[MartSpec]:
    """Every mart, by name."""
    return [_spec(node, manifest) for node in manifest.models(MARTS_SCHEMA)]


def marts_suite(spec: MartSpec, manifest: Manifest, window: Window) -> GateSuite:
    expectations: list[Expectation] = [
        unexpected(
            render("marts/key_unique.sql", manifest, key=", ".join(key), relation=spec.relation),
            f"one row per ({', '.join(key)})",
        )
        for key in spec.keys
    ]
    expectations += [
        Expectation(gx.expectations.ExpectColumnValuesToNotBeNull(column=c), f"{c} is never null")
        for c in spec.money
    ]
    expectations += [
        unexpected(
            render("marts/expression.sql", manifest, expression=e), f"{e} holds on every row"
        )
        for e in spec.expressions
    ]
    return spec.suite("gate_marts", f"marts_{spec.name}", window, *expectations)
