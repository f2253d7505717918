"""Great Expectations on DuckDB, in-database, with the two fixes this stack needs.

1. GX 1.x returns empty results from DuckDB through SQLAlchemy (upstream
   great_expectations issue #11579): ``SqlAlchemyExecutionEngine.execute_query`` returns
   the cursor after its connection closed, and duckdb-engine's cursor then has no rows.
   :func:`install_duckdb_fix` fetches inside the connection instead. It is the only patch
   of GX; ``tests/unit/test_gx_duckdb.py`` fails when upstream fixes the bug, so the patch
   goes away then.
2. GX keeps its SQLAlchemy engines open, and DuckDB refuses a second connection to the same
   file with another configuration in the same process: :func:`validate` disposes them.

Batches are query assets (``select * from marts.x``): GX's column-type metric ignores the
schema of a table asset on DuckDB.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # no phoning home, no network at run time

import great_expectations as gx
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.execution_engine import sqlalchemy_execution_engine as _engine

_ORIGINAL_EXECUTE_QUERY = _engine.SqlAlchemyExecutionEngine.execute_query


def _execute_query_fetched(self, query):
    with self.get_connection() as connection:
        result = self._execute_query_with_recovery(connection, query)
        return result.freeze()()  # rows fetched while the connection is open


def install_duckdb_fix() -> None:
    _engine.SqlAlchemyExecutionEngine.execute_query = _execute_query_fetched


def uninstall_duckdb_fix() -> None:
    """For the test that proves the upstream bug is still there."""
    _engine.SqlAlchemyExecutionEngine.execute_query = _ORIGINAL_EXECUTE_QUERY


@dataclass(frozen=True)
class Expectation:
    """One GX expectation and what a person reads when it fails."""

    gx_expectation: Any
    label: str


@dataclass(frozen=True)
class Suite:
    name: str
    query: str
    expectations: tuple[Expectation, ...]


@dataclass
class ExpectationOutcome:
    label: str
    expectation_type: str
    passed: bool
    observed: Any
    unexpected_count: int | None
    sample: list = field(default_factory=list)
    error: str | None = None


@dataclass
class SuiteOutcome:
    suite: str
    passed: bool
    outcomes: list[ExpectationOutcome]

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.passed]


def _outcome(expectation: Expectation, result) -> ExpectationOutcome:
    details = result.result or {}
    error = None
    for info in (result.exception_info or {}).values():
        if isinstance(info, dict) and info.get("raised_exception"):
            error = str(info.get("exception_message"))[:300]
    if result.exception_info and result.exception_info.get("raised_exception"):
        error = str(result.exception_info.get("exception_message"))[:300]
    return ExpectationOutcome(
        label=expectation.label,
        expectation_type=result.expectation_config.type,
        passed=bool(result.success),
        observed=details.get("observed_value"),
        unexpected_count=details.get("unexpected_count"),
        sample=[str(v) for v in (details.get("partial_unexpected_list") or [])[:5]],
        error=error,
    )


def validate(database: Path, suite: Suite) -> SuiteOutcome:
    """Run a suite against a DuckDB file, read-only, every metric computed by DuckDB."""
    install_duckdb_fix()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_sql(
        name="warehouse", connection_string=f"duckdb:///{database}?access_mode=READ_ONLY"
    )
    try:
        batch = source.add_query_asset(name=suite.name, query=suite.query)
        definition = batch.add_batch_definition_whole_table("whole")
        gx_suite = context.suites.add(gx.ExpectationSuite(name=suite.name))
        by_id = {}
        for expectation in suite.expectations:
            # A fresh copy per run: GX gives an expectation its id when a suite adopts it.
            added = gx_suite.add_expectation(copy.deepcopy(expectation.gx_expectation))
            by_id[added.id] = expectation
        run = context.validation_definitions.add(
            gx.ValidationDefinition(name=suite.name, data=definition, suite=gx_suite)
        ).run(result_format={"result_format": "SUMMARY"})
        outcomes = [_outcome(by_id[r.expectation_config.id], r) for r in run.results]
        return SuiteOutcome(suite=suite.name, passed=bool(run.success), outcomes=outcomes)
    finally:
        source.get_execution_engine().engine.dispose()
        source.get_engine().dispose()
