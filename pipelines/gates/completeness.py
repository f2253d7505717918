"""The completeness gate: every loaded sale line reaches fct_sales_margin, daily line
counts and gross sales equal the staged lines, and every prescription-drug line of the
window is either proven compliant or listed in compliance_rx_violations."""

from __future__ import annotations

from pipelines.gates.sql import render
from pipelines.gates.suite import GateSuite, mart_suite, unexpected
from pipelines.gates.window import Window
from pipelines.transform.manifest import Manifest

MART = "fct_sales_margin"


def completeness_suite(window: Window, manifest: Manifest) -> GateSuite:
    return mart_suite(
        "gate_completeness",
        MART,
        manifest.relation(MART),
        "completeness",
        unexpected(
            render("completeness/lines_reach_mart.sql", manifest),
            "every loaded sale line reaches fct_sales_margin",
        ),
        unexpected(
            render("completeness/daily_totals.sql", manifest),
            "daily line counts and gross sales equal the staged lines",
        ),
        unexpected(
            render("completeness/rx_accounted.sql", manifest, window=window),
            "every prescription-drug line is compliant or listed as a violation",
        ),
    )
