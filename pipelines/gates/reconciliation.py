"""The reconciliation gate: a brand-day whose revenue or COGS difference exceeds the
configured share of its revenue fails; any other unmatched measure only warns."""

from __future__ import annotations

from pipelines.gates.config import GateConfig
from pipelines.gates.sql import render
from pipelines.gates.suite import GateSuite, mart_suite, unexpected
from pipelines.gates.window import Window
from pipelines.transform.manifest import Manifest

MART = "recon_sales_ledger"


def reconciliation_suite(window: Window, config: GateConfig, manifest: Manifest) -> GateSuite:
    share = config.reconciliation_break_share
    material = unexpected(
        render("reconciliation/material_breaks.sql", manifest, window=window, share=share),
        f"no brand-day revenue or COGS difference above {share:.1%} of its revenue",
    )
    unmatched = unexpected(
        render("reconciliation/unmatched.sql", manifest, window=window),
        "every brand-day measure matched",
        warn_only=True,
    )
    return mart_suite(
        "gate_reconciliation", MART, manifest.relation(MART), "reconciliation", material, unmatched
    )
