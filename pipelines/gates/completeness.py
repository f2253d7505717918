"""The completeness gate: every loaded sale line of the window reaches fct_sales_margin,
its daily line counts and gross sales equal the staged lines, and every prescription-drug
line of the window is either proven compliant or listed in compliance_rx_violations."""

from __future__ import annotations

from pipelines.gates.marts import MartSpec
from pipelines.gates.sql import render
from pipelines.gates.suite import GateSuite, unexpected
from pipelines.gates.window import Window
from pipelines.transform.manifest import Manifest

MART = "fct_sales_margin"


def completeness_suite(window: Window, manifest: Manifest, spec: MartSpec) -> GateSuite:
    """``spec``: fct_sales_margin's, whose changed rows are the batch."""
    return spec.suite(
        "gate_completeness",
        "completeness",
        window,
        unexpected(
            render("completeness/lines_reach_mart.sql", manifest, window=window),
            "every loaded sale line reaches fct_sales_margin",
        ),
        unexpected(
            render("completeness/daily_totals.sql", manifest, window=window),
            "daily line counts and gross sales equal the staged lines",
        ),
        unexpected(
            render("completeness/rx_accounted.sql", manifest, window=window),
            "every prescription-drug line is compliant or listed as a violation",
        ),
    )
