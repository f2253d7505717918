"""audit.gate_results: every expectation of every gate, every run (gate history)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from pipelines.gates.validate import ExpectationOutcome, SuiteOutcome
from pipelines.settings import duckdb_config

DDL = """
create schema if not exists audit;
create table if not exists audit.gate_results (
    run_id           varchar not null,
    window_start     date,
    window_end       date,
    gate             varchar not null,
    suite            varchar not null,
    asset            varchar not null,
    severity         varchar not null,
    expectation      varchar not null,
    expectation_type varchar,
    observed_value   varchar,
    unexpected_count bigint,
    passed           boolean not null,
    evaluated_at     timestamptz not null
);
"""


def record(
    database: Path,
    run_id: str,
    window: tuple,
    results: list[tuple[str, str, SuiteOutcome, Callable[[ExpectationOutcome], str]]],
) -> int:
    """results: (gate, asset, outcome, severity of an expectation). Returns the rows
    written."""
    now = datetime.now(UTC)
    rows = [
        {
            "run_id": run_id,
            "window_start": window[0],
            "window_end": window[1],
            "gate": gate,
            "suite": outcome.suite,
            "asset": asset,
            "severity": severity(expectation),
            "expectation": expectation.label,
            "expectation_type": expectation.expectation_type,
            "observed_value": None if expectation.observed is None else str(expectation.observed),
            "unexpected_count": expectation.unexpected_count,
            "passed": expectation.passed,
            "evaluated_at": now,
        }
        for gate, asset, outcome, severity in results
        for expectation in outcome.outcomes
    ]
    frame = pl.DataFrame(rows)  # noqa: F841 - read by DuckDB below
    with duckdb.connect(str(database), config=duckdb_config()) as con:
        con.execute(DDL)
        con.execute("insert into audit.gate_results by name select * from frame")
    return len(rows)
