"""The headline measures as dbt's semantic layer defines them, over the published file.

The definitions live once, in dbt_project/models/marts/_metrics.yml; `mf query` compiles
them against the build warehouse, and this module has MetricFlow compile them against
``marts.duckdb`` (where every mart is a table of the default schema under its bare name),
so the daily report shows what an analyst's ``mf query`` returns. MetricFlow only writes
the SQL here; the caller's read-only DuckDB connection runs it.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
from metricflow.engine.metricflow_engine import MetricFlowEngine, MetricFlowQueryRequest
from metricflow.protocols.sql_client import SqlEngine
from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer
from metricflow_semantics.model.dbt_manifest_parser import (
    parse_manifest_from_dbt_generated_manifest,
)
from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

from pipelines.transform.dbt_project import TARGET_DIR

SEMANTIC_MANIFEST_PATH = TARGET_DIR / "semantic_manifest.json"
PUBLISHED_SCHEMA = "main"


def published_relations(node: Any) -> Any:
    """The semantic manifest with every relation (``"build"."marts"."x"``) renamed to where
    the published file has it (``"main"."x"``)."""
    if isinstance(node, dict):
        if {"alias", "schema_name", "relation_name"} <= node.keys():
            return {
                **node,
                "database": None,
                "schema_name": PUBLISHED_SCHEMA,
                "relation_name": f'"{PUBLISHED_SCHEMA}"."{node["alias"]}"',
            }
        return {key: published_relations(value) for key, value in node.items()}
    if isinstance(node, list):
        return [published_relations(item) for item in node]
    return node


class _DuckDbDialect:
    """What MetricFlow needs of a SQL client to write DuckDB SQL; running it is the
    caller's (MetricFlow's clients go through a dbt adapter, which would open the build
    warehouse)."""

    sql_engine_type = SqlEngine.DUCKDB
    sql_plan_renderer = DuckDbSqlPlanRenderer()

    def render_bind_parameter_key(self, bind_parameter_key: str) -> str:
        return f"${bind_parameter_key}"

    def _not_here(self, *_args: object, **_kwargs: object) -> None:
        raise NotImplementedError("pipelines.publish.metrics only compiles: run the SQL")

    query = execute = dry_run = _not_here

    def close(self) -> None:
        pass


class PublishedMetrics:
    """Compiles metric queries to SQL over the published marts."""

    @staticmethod
    def defined(semantic_manifest: Path = SEMANTIC_MANIFEST_PATH) -> list[tuple[str, str, str]]:
        """(name, label, description) of every metric, by name."""
        document = json.loads(semantic_manifest.read_text("utf-8"))
        return sorted(
            (m["name"], m.get("label") or "", m.get("description") or "")
            for m in document["metrics"]
        )

    def __init__(self, semantic_manifest: Path = SEMANTIC_MANIFEST_PATH) -> None:
        """``semantic_manifest``: what `dbt parse` writes beside the manifest (callers
        prepare the manifest first, as for everything else dbt describes)."""
        document = published_relations(json.loads(semantic_manifest.read_text("utf-8")))
        manifest = parse_manifest_from_dbt_generated_manifest(json.dumps(document))
        self._engine = MetricFlowEngine(SemanticManifestLookup(manifest), _DuckDbDialect())

    def sql(
        self,
        metrics: Sequence[str],
        group_by: Sequence[str],
        start: date | None = None,
        end: date | None = None,
        where: Sequence[str] = (),
    ) -> str:
        """One query: ``metrics`` per ``group_by`` (the names ``mf query`` takes), for
        metric_time from ``start`` to ``end`` inclusive; columns (*group_by, *metrics),
        rows ordered by the group-by. Raises MetricFlow's InformativeUserError, which names
        what it does not know and suggests what it does, for a wrong name."""
        request = MetricFlowQueryRequest.create(
            metric_names=list(metrics),
            group_by_names=list(group_by),
            time_constraint_start=datetime.combine(start, time.min) if start else None,
            time_constraint_end=datetime.combine(end, time.min) if end else None,
            where_constraints=list(where) or None,
        )
        statement = self._engine.explain(request).sql_statement
        if statement.bind_parameter_set.param_dict:
            raise NotImplementedError(f"bind parameters in MetricFlow's SQL: {statement.sql}")
        # MetricFlow truncates business dates to timestamps (2026-11-01 00:00:00) and
        # orders columns its own way: the dates they are, in the order asked.
        columns = [
            f'cast("{name}" as date) as "{name}"' if name.startswith("metric_time") else f'"{name}"'
            for name in group_by
        ] + [f'"{name}"' for name in metrics]
        order = ", ".join(str(i) for i in range(1, len(group_by) + 1))
        return f"select {', '.join(columns)}\nfrom (\n{statement.sql}\n) as metrics" + (
            f"\norder by {order}" if order else ""
        )

    def rows(
        self,
        con: duckdb.DuckDBPyConnection,
        metrics: Sequence[str],
        group_by: Sequence[str],
        start: date | None = None,
        end: date | None = None,
        where: Sequence[str] = (),
    ) -> list[tuple]:
        """The query (:meth:`sql`) run on ``con``."""
        return con.sql(self.sql(metrics, group_by, start, end, where)).fetchall()


# What the reports show, as metrics and the names `mf query` takes.
MARGIN_METRICS = (
    "recognized_revenue",
    "cogs",
    "gross_margin",
    "allocated_marketing",
    "contribution_margin",
)
BALANCE_METRICS = ("points_outstanding", "points_liability")
# What each day booked itself: the reports leave out the adjustment rows late data for a
# closed month adds to the first open month (they list them apart).
BOOKED_BY_THE_DAY = "{{ Dimension('margin_row__is_adjustment') }} = false"


def margin_by_day_and_brand(
    con: duckdb.DuckDBPyConnection, metrics: PublishedMetrics, start: date, end: date
) -> dict[tuple[date, str], tuple[Decimal, ...]]:
    """(day, brand) → MARGIN_METRICS as booked that day, for the days start..end."""
    found = metrics.rows(
        con, MARGIN_METRICS, ["metric_time__day", "brand"], start, end, [BOOKED_BY_THE_DAY]
    )
    return {(day, brand): tuple(values) for day, brand, *values in found}


def margin_by_brand(
    con: duckdb.DuckDBPyConnection, metrics: PublishedMetrics, start: date, end: date
) -> list[tuple]:
    """(brand, *MARGIN_METRICS) as booked in the days start..end, by brand."""
    return metrics.rows(con, MARGIN_METRICS, ["brand"], start, end, [BOOKED_BY_THE_DAY])


@dataclass(frozen=True)
class Balances:
    """Each brand's BALANCE_METRICS on every day it has a row, up to a last day."""

    by_brand: dict[str, list[tuple[date, tuple[Decimal, ...]]]]

    @classmethod
    def until(
        cls, con: duckdb.DuckDBPyConnection, metrics: PublishedMetrics, end: date
    ) -> Balances:
        by_brand: dict[str, list[tuple[date, tuple[Decimal, ...]]]] = {}
        for brand, day, *values in metrics.rows(
            con, BALANCE_METRICS, ["brand", "metric_time__day"], None, end
        ):
            by_brand.setdefault(brand, []).append((day, tuple(values)))
        return cls(by_brand)

    def at(self, day: date) -> list[tuple]:
        """(brand, *BALANCE_METRICS) at the end of ``day``: what the metrics give for a
        period ending that day (each brand's latest row by then)."""
        found = []
        for brand, series in sorted(self.by_brand.items()):
            rows_by_then = bisect_right(series, day, key=lambda row: row[0])
            if rows_by_then:
                found.append((brand, *series[rows_by_then - 1][1]))
        return found
