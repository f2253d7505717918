"""Run gate suites with Great Expectations, in DuckDB: every metric computed by DuckDB,
read-only, through SQLAlchemy (GX's fix for DuckDB is in ``pipelines/library_patches``).

GX keeps its SQLAlchemy engines open, and DuckDB refuses a second connection to the same
file with another configuration in the same process: :func:`validate_all` disposes them.
Batches are query assets (``select * from marts.x``): GX's column-type metric ignores the
schema of a table asset on DuckDB.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import duckdb
import great_expectations as gx
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)
from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

from pipelines.gates import data_docs_offline
from pipelines.gates.suite import Expectation, Suite
from pipelines.library_patches import gx_duckdb_fetch
from pipelines.pii import redact
from pipelines.settings import duckdb_config

DOCS_SITE = "gates"
DOCS_KEEP_DAYS = 35  # Data Docs list five weeks of runs; audit.gate_results keeps all


@dataclass
class ExpectationOutcome:
    label: str
    expectation_type: str
    passed: bool
    observed: Any
    unexpected_count: int | None
    sample: list = field(default_factory=list)
    error: str | None = None
    warn_only: bool = False


@dataclass
class SuiteOutcome:
    suite: str
    passed: bool
    outcomes: list[ExpectationOutcome]

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.passed]


def _samples(details: dict) -> list[str]:
    """A few failing values or rows: what the UI shows to explain a failure."""
    values = details.get("partial_unexpected_list") or []
    rows = (details.get("details") or {}).get("unexpected_rows") or []
    return [redact(str(v)) for v in (values or rows)[:5]]


def _outcome(expectation: Expectation, result) -> ExpectationOutcome:
    details = result.result or {}
    error = None
    info = result.exception_info or {}
    if info.get("raised_exception"):
        error = redact(str(info.get("exception_message")))[:300]
    for nested in info.values():
        if isinstance(nested, dict) and nested.get("raised_exception"):
            error = redact(str(nested.get("exception_message")))[:300]
    observed = details.get("observed_value")
    unexpected = details.get("unexpected_count")
    if (
        unexpected is None
        and isinstance(observed, int)
        and "unexpected_rows" in str(result.expectation_config.type)
    ):
        unexpected = observed
    return ExpectationOutcome(
        label=expectation.label,
        expectation_type=result.expectation_config.type,
        passed=bool(result.success),
        observed=observed,
        unexpected_count=unexpected,
        sample=_samples(details),
        error=error,
        warn_only=expectation.warn_only,
    )


def _context(results_dir: Path | None, docs_dir: Path | None):
    """An in-memory GX context (a file context rewrites its YAML config for every asset
    added: seconds per run). With ``results_dir`` validation results are kept there as
    files and ``docs_dir`` is a Data Docs site listing them."""
    config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults())
    if results_dir is not None:
        config.stores[config.validation_results_store_name] = {
            "class_name": "ValidationResultsStore",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(results_dir),
            },
        }
        config.data_docs_sites = {
            DOCS_SITE: {
                "class_name": "SiteBuilder",
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir),
                },
            }
        }
    context = gx.get_context(mode="ephemeral", project_config=config)
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def prune_kept_results(results_dir: Path, docs_dir: Path, keep_days: int) -> int:
    """Drop validation results and their Data Docs pages older than ``keep_days``: the
    docs index reads every kept result, so it would slow down run by run.
    audit.gate_results keeps every run for good. Returns the files removed."""
    cutoff = time.time() - keep_days * 86_400
    removed = 0
    for folder in (results_dir, docs_dir / "validations"):
        if not folder.is_dir():
            continue
        for path in folder.rglob("*"):
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
            if path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    return removed


def validate_all(
    database: Path,
    suites: list[Suite],
    *,
    results_dir: Path | None = None,
    docs_dir: Path | None = None,
    run_name: str = "adhoc",
    window_days: int | None = None,
) -> list[SuiteOutcome]:
    """Run suites against a DuckDB file, read-only, every metric computed by DuckDB.

    With ``results_dir`` and ``docs_dir`` the results are kept as files and rendered as
    Data Docs (one Checkpoint, one docs build); results older than DOCS_KEEP_DAYS go.
    ``window_days``: the length of the window the suites judge (DuckDB's memory limit).
    """
    gx_duckdb_fetch.install()
    keep = results_dir is not None and docs_dir is not None
    if keep:
        data_docs_offline.check_version()
        prune_kept_results(results_dir, docs_dir, DOCS_KEEP_DAYS)
    context = _context(results_dir if keep else None, docs_dir)
    source = context.data_sources.add_or_update_sql(
        name="warehouse",
        connection_string=(
            f"duckdb:///{database}?access_mode=READ_ONLY&" + urlencode(duckdb_config(window_days))
        ),
    )
    try:
        definitions, by_id = [], {}
        for suite in suites:
            batch = source.add_query_asset(name=suite.name, query=suite.query)
            gx_suite = context.suites.add_or_update(gx.ExpectationSuite(name=suite.name))
            for expectation in suite.expectations:
                # A fresh copy per run: GX gives an expectation its id when a suite adopts it.
                added = gx_suite.add_expectation(copy.deepcopy(expectation.gx_expectation))
                by_id[added.id] = expectation
            definitions.append(
                context.validation_definitions.add_or_update(
                    gx.ValidationDefinition(
                        name=suite.name,
                        data=batch.add_batch_definition_whole_table("whole"),
                        suite=gx_suite,
                    )
                )
            )
        checkpoint = gx.Checkpoint(
            name="yecai_gates",
            validation_definitions=definitions,
            result_format={"result_format": "SUMMARY"},
        )
        checkpoint = context.checkpoints.add_or_update(checkpoint)
        result = checkpoint.run(run_id=gx.RunIdentifier(run_name=run_name))
        if keep:
            # Once for the whole run: GX's UpdateDataDocsAction rebuilds the site once per
            # suite, which cost more than validating.
            docs_built_from = time.time()
            context.build_data_docs(
                site_names=[DOCS_SITE],
                resource_identifiers=[
                    *result.run_results,
                    *(ExpectationSuiteIdentifier(name=s.name) for s in suites),
                ],
            )
            data_docs_offline.make_offline(docs_dir, since=docs_built_from)
        by_suite = {run.suite_name: run for run in result.run_results.values()}
        outcomes = []
        for suite in suites:
            run = by_suite[suite.name]
            outcomes.append(
                SuiteOutcome(
                    suite=suite.name,
                    passed=bool(run.success),
                    outcomes=[_outcome(by_id[r.expectation_config.id], r) for r in run.results],
                )
            )
    finally:
        source.get_execution_engine().engine.dispose()
        source.get_engine().dispose()
    _add_row_samples(database, suites, outcomes)
    return outcomes


def _add_row_samples(database: Path, suites: list[Suite], outcomes: list[SuiteOutcome]) -> None:
    """A few rows of each failed row query: the keys a person needs to look at. (GX gives
    rows only in its COMPLETE format, which would fetch every failing value.)"""
    failed = []
    for suite, suite_outcome in zip(suites, outcomes, strict=True):
        by_label = {expectation.label: expectation for expectation in suite.expectations}
        for outcome in suite_outcome.failed:
            expectation = by_label[outcome.label]
            if (
                not outcome.sample
                and not outcome.error
                and hasattr(expectation.gx_expectation, "unexpected_rows_query")
            ):
                failed.append((suite, expectation, outcome))
    if not failed:
        return
    with duckdb.connect(str(database), read_only=True, config=duckdb_config()) as con:
        for suite, expectation, outcome in failed:
            query = (
                expectation.gx_expectation.unexpected_rows_query.replace(
                    "{batch}", f"({suite.query})"
                )
                .replace("{{", "{")
                .replace("}}", "}")
            )
            rows = con.sql(f"select * from ({query}) limit 5").fetchall()
            outcome.sample = [redact(str(row)) for row in rows]


def validate(database: Path, suite: Suite) -> SuiteOutcome:
    """One suite, nothing kept: for tests and ad-hoc checks."""
    return validate_all(database, [suite])[0]
