"""The full-history audit: every gate suite over every row of the warehouse (or over a
range of business dates), kept in the gate history like a run's gates.

A nightly run's gates read what the run changed (:mod:`.scope`); the audit reads
everything, so a guarantee over all history (no personal data in any published row, keys
unique across dates) is re-proved from scratch. ``yecai audit`` runs it, so does the weekly
Dagster job ``yecai_audit``, and ``yecai restore`` runs it on a restored warehouse. The
caller holds the writer lock: the audit writes ``audit.gate_results``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from pipelines.gates.config import load_gate_config
from pipelines.gates.run import (
    failed_error_gates,
    record_history,
    run_gates,
    warned_gates,
)
from pipelines.gates.window import Window
from pipelines.periods import ensure_period_tables
from pipelines.settings import Settings
from pipelines.transform.dbt_project import prepare_manifest
from pipelines.warehouse_lock import writer_lock


@dataclass(frozen=True)
class AuditOutcome:
    run_id: str
    window: Window
    suites: int
    failed: list[str]  # error gates that failed, with their failed expectations
    warnings: list[str]

    @property
    def passed(self) -> bool:
        return not self.failed


def run_audit(settings: Settings, window: Window, run_id: str) -> AuditOutcome:
    """Every gate suite over ``window`` (everything by default), recorded under ``run_id``."""
    config = load_gate_config()
    ensure_period_tables(settings.build_db)
    gate_run = run_gates(settings, window, config, run_name=run_id)
    record_history(settings, run_id, window, config, gate_run)
    return AuditOutcome(
        run_id=run_id,
        window=window,
        suites=len(gate_run.suites),
        failed=failed_error_gates(config, gate_run),
        warnings=warned_gates(config, gate_run),
    )


def audit_run_id(kind: str = "audit") -> str:
    """A gate-history run id for a run outside Dagster: ``audit-20261205T101500Z``."""
    return f"{kind}-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}"


def audit_home(
    settings: Settings, window: Window, run_id: str, wait_note: Callable[[str], None]
) -> AuditOutcome:
    """The audit outside Dagster (``yecai audit``, ``yecai restore``): the dbt manifest
    prepared for the home, then the audit under the writer lock."""
    settings.export_env()  # dbt reads the home while it parses
    prepare_manifest()
    with writer_lock(settings.warehouse, f"yecai audit ({run_id})", wait_note):
        return run_audit(settings, window, run_id)
