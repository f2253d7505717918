"""Every gate suite of a window, from the contracts, the dbt manifest and gates.yaml."""

from __future__ import annotations

from pathlib import Path

from pipelines.contracts import load_contracts
from pipelines.gates.closed_periods import closed_periods_suite
from pipelines.gates.completeness import MART, completeness_suite
from pipelines.gates.compliance import compliance_suites
from pipelines.gates.config import GateConfig
from pipelines.gates.delivery import delivery_suite
from pipelines.gates.marts import mart_specs, marts_suite
from pipelines.gates.pii import pii_suite
from pipelines.gates.raw import raw_suite
from pipelines.gates.reconciliation import reconciliation_suite
from pipelines.gates.suite import GateSuite
from pipelines.gates.window import Window
from pipelines.transform.manifest import load_manifest


def all_suites(
    window: Window, config: GateConfig, manifest_path: Path, lake: Path | None = None
) -> list[GateSuite]:
    """``lake`` (the raw lake): the raw gates read the window's partitions from it."""
    manifest = load_manifest(manifest_path)
    specs = mart_specs(manifest)
    contracts = load_contracts().values()
    return [
        *(raw_suite(contract, window, manifest, lake) for contract in contracts),
        *(delivery_suite(contract.source, window, config, manifest) for contract in contracts),
        *(pii_suite(spec, manifest, window) for spec in specs),
        *(marts_suite(spec, manifest, window) for spec in specs),
        completeness_suite(window, manifest, next(s for s in specs if s.name == MART)),
        reconciliation_suite(window, config, manifest),
        *compliance_suites(window, manifest),
        *(closed_periods_suite(spec, manifest, window) for spec in specs if spec.period_column),
    ]
