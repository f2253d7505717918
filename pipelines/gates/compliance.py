"""The compliance gate (warn): what the compliance marts list for the window. Individual
violations are the marts' job; the gate counts them for the UI and the daily report."""

from __future__ import annotations

from pipelines.gates.sql import render
from pipelines.gates.suite import GateSuite, mart_suite, unexpected
from pipelines.gates.window import Window
from pipelines.transform.manifest import Manifest

GATE = "gate_compliance"
# (mart, suite, template, label)
CHECKS = (
    (
        "compliance_rx_violations",
        "rx_compliance",
        "compliance/rx_violations.sql",
        "no prescription-drug violation",
    ),
    (
        "compliance_traceability",
        "traceability",
        "compliance/traceability.sql",
        "no traceability issue",
    ),
    (
        "marketing_budget_vs_actual",
        "marketing_budget",
        "compliance/over_budget.sql",
        "no campaign over budget",
    ),
)


def compliance_suites(window: Window, manifest: Manifest) -> list[GateSuite]:
    return [
        mart_suite(
            GATE,
            mart,
            manifest.relation(mart),
            suite,
            unexpected(render(template, manifest, window=window), label),
        )
        for mart, suite, template, label in CHECKS
    ]
