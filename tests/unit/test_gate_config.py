"""gates.yaml: read in one place, mistakes named; how a failed suite counts."""

import dagster as dg
import pytest

from pipelines.defs.gates.checks import verdict
from pipelines.gates.config import GATES, GATES_FILE, load_gate_config
from pipelines.gates.validate import ExpectationOutcome, SuiteOutcome


def test_the_repository_file_names_every_gate_of_the_spec():
    config = load_gate_config()
    assert set(config.severity) == set(GATES)
    assert config.quarantine_rate_max == 0.01 and config.reconciliation_break_share == 0.005
    assert not config.is_error("gate_compliance") and config.is_error("gate_pii")


@pytest.mark.parametrize(
    ("severity", "message"),
    [
        ("pii: fatal", "severities must be error or warn"),
        ("pi: error", "severity must name each gate once"),
    ],
)
def test_a_mistake_in_the_file_is_named(tmp_path, severity, message):
    text = GATES_FILE.read_text(encoding="utf-8").replace("pii: error", severity)
    path = tmp_path / "gates.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message) as error:
        load_gate_config(path)
    assert str(path) in str(error.value)


def _suite(*failed_warn_only: bool) -> SuiteOutcome:
    return SuiteOutcome(
        "reconciliation",
        passed=not failed_warn_only,
        outcomes=[
            ExpectationOutcome(f"e{i}", "unexpected_rows_expectation", False, 1, 1, warn_only=w)
            for i, w in enumerate(failed_warn_only)
        ],
    )


def test_an_error_gate_only_warns_when_only_its_warn_only_expectations_failed():
    config = load_gate_config()
    assert verdict(config, "gate_reconciliation", _suite(True)) == dg.AssetCheckSeverity.WARN
    assert verdict(config, "gate_reconciliation", _suite(True, False)) == (
        dg.AssetCheckSeverity.ERROR
    )
    assert verdict(config, "gate_compliance", _suite(False)) == dg.AssetCheckSeverity.WARN
