"""The completeness gate: every loaded sale line of the window reaches the line-level
margin, its daily line counts and gross sales equal the staged lines, and every
prescription-drug line of the window is either proven compliant or listed as a violation.

It follows the lines as built (the models behind fct_sales_margin and
compliance_rx_violations): in a closed month those marts show the month as closed, and
late lines reach the marts as adjustments (period close), not as rows of that month."""

from __future__ import annotations

from pipelines.gates.marts import MartSpec
from pipelines.gates.sql import render
from pipelines.gates.suite import GateSuite, mart_suite, unexpected
from pipelines.gates.window import Window
from pipelines.transform.manifest import Manifest

MART = "fct_sales_margin"


def completeness_suite(window: Window, manifest: Manifest, spec: MartSpec) -> GateSuite:
    """``spec``: fct_sales_margin's; the rows a run changed of its as-built model are the
    batch."""
    return mart_suite(
        "gate_completeness",
        spec.name,
        spec.as_built or spec.relation,
        "completeness",
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
        where=spec.changed_rows(window),
    )
