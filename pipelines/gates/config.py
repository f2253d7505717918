"""gates.yaml: thresholds and severities of the compliance gates, read in one place."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from pipelines.settings import REPO_ROOT

GATES_FILE = REPO_ROOT / "gates.yaml"
SEVERITIES = ("error", "warn")
# The gates, as gates.yaml names them; each is an asset check gate_<name>.
GATES = (
    "raw",
    "pii",
    "completeness",
    "marts",
    "reconciliation",
    "compliance",
    "closed_periods",
)


@dataclass(frozen=True)
class GateConfig:
    quarantine_rate_max: float
    quarantine_rows_tolerated: int
    reconciliation_break_share: float
    severity: dict[str, str]

    def severity_of(self, gate: str) -> str:
        """gate: its name in gates.yaml, or its check name (gate_<name>)."""
        return self.severity[gate.removeprefix("gate_")]

    def is_error(self, gate: str) -> bool:
        return self.severity_of(gate) == "error"


@cache
def load_gate_config(path: Path = GATES_FILE) -> GateConfig:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    thresholds = document["thresholds"]
    severity = dict(document["severity"])
    unknown = {g: s for g, s in severity.items() if s not in SEVERITIES}
    if unknown:
        raise ValueError(f"{path}: severities must be error or warn, not {unknown}")
    if set(severity) != set(GATES):
        raise ValueError(
            f"{path}: severity must name each gate once ({', '.join(GATES)}); "
            f"it names {', '.join(severity)}"
        )
    return GateConfig(
        quarantine_rate_max=float(thresholds["quarantine_rate_max"]),
        quarantine_rows_tolerated=int(thresholds["quarantine_rows_tolerated"]),
        reconciliation_break_share=float(thresholds["reconciliation_break_share"]),
        severity=severity,
    )
