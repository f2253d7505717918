"""The gates as Dagster asset checks: one result per gate and asset, from one GX run.

Error gates are blocking: Dagster does not publish in a run where one failed, and the
publish step checks the evaluations itself too. Warn gates report without blocking.
"""

from functools import partial

import dagster as dg

from pipelines.crash_points import crash_point
from pipelines.defs.automation.partitions import tagged_window
from pipelines.defs.gates import history
from pipelines.defs.gates.config import GateConfig, load_gate_config
from pipelines.defs.gates.gx_duckdb import ExpectationOutcome, SuiteOutcome, validate_all
from pipelines.defs.gates.suites import EVERYTHING, GateSuite, Window, all_suites
from pipelines.defs.resources import YecaiResource
from pipelines.defs.transform.dbt import dbt_project
from pipelines.defs.writer import WarehouseWriter, retry_if_transient
from pipelines.settings import Settings


def gate_severity(config: GateConfig, gate: str) -> str:
    return config.severity[gate.removeprefix("gate_")]


def verdict(config: GateConfig, gate: str, outcome: SuiteOutcome) -> dg.AssetCheckSeverity:
    """How a failed suite counts: an error gate fails as a warning when only its warn-only
    expectations failed. (Dagster blocks on a failed check of ERROR severity only.)"""
    hard = config.is_error(gate) and any(not o.warn_only for o in outcome.failed)
    return dg.AssetCheckSeverity.ERROR if hard else dg.AssetCheckSeverity.WARN


def expectation_severity(config: GateConfig, gate: str, outcome: ExpectationOutcome) -> str:
    return "warn" if outcome.warn_only else gate_severity(config, gate)


def check_metadata(outcome: SuiteOutcome, window: Window) -> dict[str, dg.MetadataValue]:
    """What the UI shows: every expectation with its counts, and a few failing keys."""
    rows = {
        o.label: {
            "passed": o.passed,
            "unexpected_count": o.unexpected_count,
            "observed": o.observed
            if isinstance(o.observed, int | float | str | None)
            else str(o.observed),
            "sample": o.sample,
            **({"error": o.error} if o.error else {}),
            **({"warn_only": True} if o.warn_only else {}),
        }
        for o in outcome.outcomes
    }
    return {
        "window": dg.MetadataValue.text(f"{window.start}..{window.end}"),
        "expectations": dg.MetadataValue.int(len(outcome.outcomes)),
        "failed": dg.MetadataValue.int(len(outcome.failed)),
        "results": dg.MetadataValue.json(rows),
    }


def run_window(context: dg.AssetCheckExecutionContext) -> Window:
    """The business dates of the run: its partition range, one partition, or everything."""
    return Window(*(tagged_window(context.run.tags) or EVERYTHING))


def by_check(suites: list[GateSuite]) -> dict[dg.AssetCheckKey, list[GateSuite]]:
    """The suites each check decides (the raw gate of a source has two: its contract's and
    its delivery's)."""
    checks: dict[dg.AssetCheckKey, list[GateSuite]] = {}
    for s in suites:
        checks.setdefault(dg.AssetCheckKey(dg.AssetKey(list(s.asset)), s.gate), []).append(s)
    return checks


def gate_specs(config: GateConfig) -> list[dg.AssetCheckSpec]:
    suites = all_suites(Window(*EVERYTHING), config, dbt_project().manifest_path)
    return [
        dg.AssetCheckSpec(
            name=key.name,
            asset=key.asset_key,
            blocking=gate_severity(config, key.name) == "error",
            description=f"{gate_severity(config, key.name)} gate, suites "
            + ", ".join(s.suite.name for s in members),
        )
        for key, members in by_check(suites).items()
    ]


def required_gates() -> list[dg.AssetCheckKey]:
    """Every error gate: publication needs each of them passed in the same run."""
    return [spec.key for spec in gate_specs(load_gate_config()) if spec.blocking]


def validate_window(
    settings: Settings, window: Window, config: GateConfig, run_name: str
) -> tuple[list[GateSuite], list[SuiteOutcome]]:
    """Every gate suite of the window run over build.duckdb; results and Data Docs kept."""
    suites = all_suites(window, config, dbt_project().manifest_path)
    outcomes = validate_all(
        settings.build_db,
        [s.suite for s in suites],
        results_dir=settings.home / "gx" / "validations",
        docs_dir=settings.reports / "gates",
        run_name=run_name,
    )
    return suites, outcomes


def gates_definitions() -> dg.Definitions:
    config = load_gate_config()

    @dg.multi_asset_check(specs=gate_specs(config), name="gates")
    def gates(
        context: dg.AssetCheckExecutionContext, yecai: YecaiResource, writer: WarehouseWriter
    ):
        settings = yecai.settings()
        window = run_window(context)
        with retry_if_transient(context):
            suites, outcomes = validate_window(settings, window, config, context.run.run_id)
            crash_point("gates.validated")
            history.record(
                settings.build_db,
                context.run.run_id,
                (window.start, window.end),
                [
                    (s.gate, "/".join(s.asset), o, partial(expectation_severity, config, s.gate))
                    for s, o in zip(suites, outcomes, strict=True)
                ],
            )
        crash_point("gates.recorded")
        outcome_of = {s.suite.name: o for s, o in zip(suites, outcomes, strict=True)}
        for key, members in by_check(suites).items():
            outcome = SuiteOutcome(
                suite=", ".join(s.suite.name for s in members),
                passed=all(outcome_of[s.suite.name].passed for s in members),
                outcomes=[o for s in members for o in outcome_of[s.suite.name].outcomes],
            )
            yield dg.AssetCheckResult(
                asset_key=key.asset_key,
                check_name=key.name,
                passed=outcome.passed,
                severity=verdict(config, key.name, outcome),
                metadata=check_metadata(outcome, window),
            )

    return dg.Definitions(asset_checks=[gates])
