"""A gate run: every suite of a window over build.duckdb, the verdict of each gate, and
the gate history it leaves."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

from pipelines.gates import history
from pipelines.gates.config import GateConfig
from pipelines.gates.suite import GateSuite
from pipelines.gates.suites import all_suites
from pipelines.gates.validate import ExpectationOutcome, SuiteOutcome, validate_all
from pipelines.gates.window import Window
from pipelines.settings import Settings
from pipelines.transform.dbt_project import MANIFEST_PATH

ERROR, WARN = "error", "warn"


def verdict(config: GateConfig, gate: str, outcome: SuiteOutcome) -> str:
    """How a failed suite counts: ``error`` blocks publication. An error gate fails as a
    warning when only its warn-only expectations failed (small reconciliation breaks)."""
    hard = config.is_error(gate) and any(not o.warn_only for o in outcome.failed)
    return ERROR if hard else WARN


def expectation_severity(config: GateConfig, gate: str, outcome: ExpectationOutcome) -> str:
    return WARN if outcome.warn_only else config.severity_of(gate)


@dataclass(frozen=True)
class GateResult:
    """One gate on one asset (a Dagster asset check): the suites it decides, together."""

    gate: str
    asset: tuple[str, str]
    outcome: SuiteOutcome


@dataclass(frozen=True)
class GateRun:
    suites: list[GateSuite]
    outcomes: list[SuiteOutcome]

    def by_gate(self) -> list[GateResult]:
        """The suites of each gate and asset as one outcome (the raw gate of a source has
        two suites: its contract's and its delivery's)."""
        grouped: dict[tuple[str, tuple[str, str]], list[SuiteOutcome]] = {}
        for suite, outcome in zip(self.suites, self.outcomes, strict=True):
            grouped.setdefault((suite.gate, suite.asset), []).append(outcome)
        return [
            GateResult(
                gate,
                asset,
                SuiteOutcome(
                    suite=", ".join(o.suite for o in outcomes),
                    passed=all(o.passed for o in outcomes),
                    outcomes=[e for o in outcomes for e in o.outcomes],
                ),
            )
            for (gate, asset), outcomes in grouped.items()
        ]


def gate_suites(window: Window, config: GateConfig, lake: Path | None = None) -> list[GateSuite]:
    return all_suites(window, config, MANIFEST_PATH, lake)


def run_gates(settings: Settings, window: Window, config: GateConfig, run_name: str) -> GateRun:
    """Every gate suite of the window over build.duckdb; results and Data Docs kept."""
    suites = gate_suites(window, config, settings.raw_lake)
    outcomes = validate_all(
        settings.build_db,
        [s.suite for s in suites],
        results_dir=settings.home / "gx" / "validations",
        docs_dir=settings.reports / "gates",
        run_name=run_name,
        window_days=None if window.is_everything else window.length,
    )
    return GateRun(suites, outcomes)


def record_history(
    settings: Settings, run_id: str, window: Window, config: GateConfig, gate_run: GateRun
) -> int:
    """Every expectation of the run into audit.gate_results; returns the rows written."""
    return history.record(
        settings.build_db,
        run_id,
        (window.start, window.end),
        [
            (s.gate, "/".join(s.asset), o, partial(expectation_severity, config, s.gate))
            for s, o in zip(gate_run.suites, gate_run.outcomes, strict=True)
        ],
    )


def _failed_suites(config: GateConfig, gate_run: GateRun, severity: str) -> list[str]:
    """A line for each suite that failed with ``severity``: gate, asset and expectations."""
    return [
        f"{s.gate} on {'/'.join(s.asset)}: " + ", ".join(o.label for o in outcome.failed)
        for s, outcome in zip(gate_run.suites, gate_run.outcomes, strict=True)
        if not outcome.passed and verdict(config, s.gate, outcome) == severity
    ]


def failed_error_gates(config: GateConfig, gate_run: GateRun) -> list[str]:
    """A line for each suite that failed an error gate: the gate, asset and expectations."""
    return _failed_suites(config, gate_run, ERROR)


def warned_gates(config: GateConfig, gate_run: GateRun) -> list[str]:
    """A line for each suite that failed as a warning (publication goes on)."""
    return _failed_suites(config, gate_run, WARN)
