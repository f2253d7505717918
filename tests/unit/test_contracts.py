"""The ODCS contracts are valid, and everything derived from them agrees with them."""

import json
from decimal import Decimal
from importlib import resources

import jsonschema
import pytest
import yaml
from open_data_contract_standard.model import OpenDataContractStandard

from pipelines.contracts import ContractError, load_contracts, parse_contract
from pipelines.settings import CONTRACTS_DIR, SOURCES
from pipelines.transform import dbt_sources

ODCS_SCHEMA = json.loads(
    resources.files("open_data_contract_standard").joinpath("schema.json").read_text()
)


@pytest.mark.parametrize("source", SOURCES)
def test_contract_is_valid_odcs(source):
    document = yaml.safe_load((CONTRACTS_DIR / f"{source}.odcs.yaml").read_text())
    OpenDataContractStandard(**document)
    errors = list(jsonschema.Draft202012Validator(ODCS_SCHEMA).iter_errors(document))
    assert errors == []


def test_odcs_validation_catches_a_broken_contract():
    document = yaml.safe_load((CONTRACTS_DIR / "sales.odcs.yaml").read_text())
    document["schema"][0]["properties"][0]["logicalType"] = "text"  # not an ODCS type
    del document["apiVersion"]
    errors = list(jsonschema.Draft202012Validator(ODCS_SCHEMA).iter_errors(document))
    assert len(errors) >= 2


def test_contract_model():
    contracts = load_contracts()
    assert set(contracts) == set(SOURCES)
    sales = contracts["sales"]
    assert sales.primary_key == ("order_id", "line_no")
    assert {c.name: c.pii_kind for c in sales.pii_columns} == {
        "customer_phone": "phone",
        "customer_email": "email",
        "customer_name": "name",
        "customer_id_number": "id_number",
    }
    assert sales.column("unit_price").physical_type == "DECIMAL(18,2)"
    assert sales.column("line_type").valid_values == ("SALE", "RETURN")
    assert {r.seed for r in sales.references} == {
        "stores",
        "products",
        "brands",
        "marketing_budgets",
    }
    assert [r.name for r in sales.row_rules] == ["net_amount_arithmetic", "discount_within_gross"]
    assert contracts["consultations"].primary_key == ("consultation_id", "rx_line_no")
    assert contracts["inventory"].column("unit_cost").physical_type == "DECIMAL(18,4)"
    assert [r.name for r in contracts["ledger"].set_rules] == ["balanced_journals"]
    # Money never leaves the contract as a float.
    for contract in contracts.values():
        for column in contract.columns:
            assert "DOUBLE" not in column.physical_type and "FLOAT" not in column.physical_type


def test_raw_lake_never_holds_a_raw_pii_column():
    for contract in load_contracts().values():
        lake_columns = set(contract.lake_schema()) | set(contract.quarantine_schema())
        for column in contract.pii_columns:
            assert column.name not in lake_columns
            assert {f"{column.name}_token", f"{column.name}_masked"} <= lake_columns


def test_contract_with_unknown_pii_kind_is_refused(tmp_path):
    text = (CONTRACTS_DIR / "sales.odcs.yaml").read_text()
    broken = tmp_path / "sales.odcs.yaml"
    broken.write_text(text.replace("value: phone}", "value: telephone}"))
    with pytest.raises(ContractError, match="piiKind"):
        parse_contract(broken)


@pytest.mark.parametrize("source", SOURCES)
def test_dbt_sources_are_generated_from_the_contract(source):
    """Edit the contract, then run `make contracts`: the committed YAML must match."""
    committed = dbt_sources.path_for(source).read_text(encoding="utf-8")
    assert committed == dbt_sources.render(load_contracts()[source])


# What the marts compute of one line from the extracts' amounts: each must fit DECIMAL(18,2)
# (16 digits before the point) with room for a day's sum of 999 lines at the maximum.
LINE_PRODUCTS = {
    "gross sales": ("sales", "quantity", "unit_price"),
    "cost of sales": ("sales", "quantity", ("inventory", "unit_cost")),
}
LINE_AMOUNTS = {
    "sales": ("discount_amount", "net_amount", "tax_amount"),
    "ledger": ("debit", "credit"),
    "consultations": ("consultation_fee",),
}
ROOM = Decimal(10) ** 16 / 999


def _maximum(source: str, column: str) -> Decimal:
    bound = load_contracts()[source].column(column).maximum
    assert bound is not None, f"{source}.{column} needs a maximum: the marts sum it"
    return bound


def test_the_contracts_bounds_fit_the_marts_decimals():
    for what, (source, left, right) in LINE_PRODUCTS.items():
        other = right if isinstance(right, tuple) else (source, right)
        assert _maximum(source, left) * _maximum(*other) < ROOM, what
    for source, columns in LINE_AMOUNTS.items():
        for column in columns:
            assert _maximum(source, column) < ROOM, f"{source}.{column}"
    points = _maximum("sales", "points_earned") / 100
    assert points < ROOM and _maximum("sales", "points_redeemed") / 100 < ROOM
