"""The gates as Dagster asset checks: one result per gate and asset, from one GX run.

Error gates are blocking: Dagster does not publish in a run where one failed, and the
publish step checks the evaluations itself too. Warn gates report without blocking.
"""

import dagster as dg

from pipelines.crash_points import crash_point
from pipelines.defs.resources import BuildDbLock, YecaiResource
from pipelines.defs.retry import retry_if_transient
from pipelines.gates import run as gates
from pipelines.gates.config import GateConfig, load_gate_config
from pipelines.gates.validate import SuiteOutcome
from pipelines.gates.window import Window
from pipelines.publish.pending import gated_window
from pipelines.runs.tags import tagged_window

SEVERITY = {gates.ERROR: dg.AssetCheckSeverity.ERROR, gates.WARN: dg.AssetCheckSeverity.WARN}


def verdict(config: GateConfig, gate: str, outcome: SuiteOutcome) -> dg.AssetCheckSeverity:
    """The check severity of a failed suite (Dagster blocks on ERROR only)."""
    return SEVERITY[gates.verdict(config, gate, outcome)]


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


def checked_window(context: dg.AssetCheckExecutionContext) -> Window:
    """The business dates of the run: its partition range, one partition, or everything."""
    window = tagged_window(context.run.tags)
    return Window(*window) if window else Window.everything()


def gate_specs(config: GateConfig) -> list[dg.AssetCheckSpec]:
    """One check per gate and asset of the suites a window has."""
    checks: dict[dg.AssetCheckKey, list[str]] = {}
    for s in gates.gate_suites(Window.everything(), config):
        key = dg.AssetCheckKey(dg.AssetKey(list(s.asset)), s.gate)
        checks.setdefault(key, []).append(s.suite.name)
    return [
        dg.AssetCheckSpec(
            name=key.name,
            asset=key.asset_key,
            blocking=config.is_error(key.name),
            description=f"{config.severity_of(key.name)} gate, suites {', '.join(suites)}",
        )
        for key, suites in checks.items()
    ]


def required_gates() -> list[dg.AssetCheckKey]:
    """Every error gate: publication needs each of them passed in the same run."""
    return [spec.key for spec in gate_specs(load_gate_config()) if spec.blocking]


def gates_definitions() -> dg.Definitions:
    config = load_gate_config()

    @dg.multi_asset_check(specs=gate_specs(config), name="gates")
    def gates_check(
        context: dg.AssetCheckExecutionContext,
        yecai: YecaiResource,
        build_db_lock: BuildDbLock,  # noqa: ARG001 - held for the run
    ):
        settings = yecai.settings()
        # Its own window, and every earlier one built and never published.
        window = gated_window(settings.build_db, checked_window(context))
        with retry_if_transient(context):
            gate_run = gates.run_gates(settings, window, config, context.run.run_id)
            crash_point("gates.validated")
            gates.record_history(settings, context.run.run_id, window, config, gate_run)
        crash_point("gates.recorded")
        for result in gate_run.by_gate():
            yield dg.AssetCheckResult(
                asset_key=dg.AssetKey(list(result.asset)),
                check_name=result.gate,
                passed=result.outcome.passed,
                severity=verdict(config, result.gate, result.outcome),
                metadata=check_metadata(result.outcome, window),
            )

    return dg.Definitions(asset_checks=[gates_check])
