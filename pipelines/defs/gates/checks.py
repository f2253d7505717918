"""Gate suites as Dagster asset checks. An error gate is blocking: publication waits on it."""

import dagster as dg

from pipelines.defs.gates.gx_duckdb import Suite, SuiteOutcome, validate
from pipelines.defs.gates.suites import MARTS_SALES_MARGIN
from pipelines.defs.resources import YecaiResource

# (suite, asset it guards)
ERROR_GATES: tuple[tuple[Suite, dg.AssetKey], ...] = (
    (MARTS_SALES_MARGIN, dg.AssetKey(["marts", "fct_sales_margin"])),
)


def check_metadata(outcome: SuiteOutcome) -> dict[str, dg.MetadataValue]:
    """What the UI shows: every expectation with its counts, and a few failing values."""
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
        "expectations": dg.MetadataValue.int(len(outcome.outcomes)),
        "failed": dg.MetadataValue.int(len(outcome.failed)),
        "results": dg.MetadataValue.json(rows),
    }


def gate_check(suite: Suite, asset: dg.AssetKey) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=asset,
        name=f"gate_{suite.name}",
        blocking=True,
        description=f"Great Expectations suite {suite.name} (error: blocks publication).",
    )
    def gate(yecai: YecaiResource) -> dg.AssetCheckResult:
        outcome = validate(yecai.settings().build_db, suite)
        return dg.AssetCheckResult(
            passed=outcome.passed,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata=check_metadata(outcome),
        )

    return gate


def gates_definitions() -> dg.Definitions:
    return dg.Definitions(asset_checks=[gate_check(suite, asset) for suite, asset in ERROR_GATES])
