"""The gates as Dagster asset checks: one result per gate and asset, from one GX run.

Error gates are blocking: Dagster does not publish in a run where one failed, and the
publish step checks the evaluations itself too. Warn gates report without blocking.
"""

from datetime import date

import dagster as dg
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    PARTITION_NAME_TAG,
)

from pipelines.defs.gates import history
from pipelines.defs.gates.config import GateConfig, load_gate_config
from pipelines.defs.gates.gx_duckdb import SuiteOutcome, validate_all
from pipelines.defs.gates.suites import EVERYTHING, GateSuite, Window, all_suites
from pipelines.defs.resources import YecaiResource
from pipelines.defs.transform.dbt import dbt_project


def gate_severity(config: GateConfig, gate: str) -> str:
    return config.severity[gate.removeprefix("gate_")]


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
    tags = context.run.tags
    if ASSET_PARTITION_RANGE_START_TAG in tags:
        return Window(
            date.fromisoformat(tags[ASSET_PARTITION_RANGE_START_TAG]),
            date.fromisoformat(tags[ASSET_PARTITION_RANGE_END_TAG]),
        )
    if PARTITION_NAME_TAG in tags:
        day = date.fromisoformat(tags[PARTITION_NAME_TAG])
        return Window(day, day)
    return Window(*EVERYTHING)


def gate_specs(config: GateConfig) -> list[dg.AssetCheckSpec]:
    suites = all_suites(Window(*EVERYTHING), config, dbt_project().manifest_path)
    return [
        dg.AssetCheckSpec(
            name=s.gate,
            asset=dg.AssetKey(list(s.asset)),
            blocking=gate_severity(config, s.gate) == "error",
            description=f"{gate_severity(config, s.gate)} gate, suite {s.suite.name}",
        )
        for s in suites
    ]


def required_gates() -> list[dg.AssetCheckKey]:
    """Every error gate: publication needs each of them passed in the same run."""
    return [spec.key for spec in gate_specs(load_gate_config()) if spec.blocking]


def gates_definitions() -> dg.Definitions:
    config = load_gate_config()

    @dg.multi_asset_check(specs=gate_specs(config), name="gates")
    def gates(context: dg.AssetCheckExecutionContext, yecai: YecaiResource):
        settings = yecai.settings()
        window = run_window(context)
        suites: list[GateSuite] = all_suites(window, config, dbt_project().manifest_path)
        outcomes = validate_all(
            settings.build_db,
            [s.suite for s in suites],
            gx_root=settings.home / "gx",
            docs_dir=settings.reports / "gates",
            run_name=context.run.run_id,
        )
        results = [
            (s.gate, "/".join(s.asset), gate_severity(config, s.gate), outcome)
            for s, outcome in zip(suites, outcomes, strict=True)
        ]
        history.record(settings.build_db, context.run.run_id, (window.start, window.end), results)
        for gate_suite, outcome in zip(suites, outcomes, strict=True):
            severity = gate_severity(config, gate_suite.gate)
            yield dg.AssetCheckResult(
                asset_key=dg.AssetKey(list(gate_suite.asset)),
                check_name=gate_suite.gate,
                passed=outcome.passed,
                severity=dg.AssetCheckSeverity.ERROR
                if severity == "error"
                else dg.AssetCheckSeverity.WARN,
                metadata=check_metadata(outcome, window),
            )

    return dg.Definitions(asset_checks=[gates])
