"""Reads ``data_contracts/*.odcs.yaml`` (ODCS v3) into one typed model.

The contract is the only place an extract column's type or rule is written: ingestion
parses and checks with it, the dbt sources are generated from it, and the raw gates derive
their expectations from it. yecai reads this subset of ODCS:

- ``schema[0].properties[]``: ``logicalType`` + ``physicalType`` (a DuckDB type), ``required``,
  ``primaryKey``/``primaryKeyPosition``, ``logicalTypeOptions`` (``pattern``, ``minimum``,
  ``maximum``, ``maxLength``), ``quality[]`` with ``metric: invalidValues`` and
  ``arguments.validValues``, ``relationships[].to`` a seed column (``products.sku``), and
  ``classification`` + tag ``pii`` + custom property ``piiKind`` for personal data.
- ``schema[0].relationships[]``: composite foreign keys into the seeds.
- ``schema[0].quality[]``: ``type: custom, engine: sql-row-condition`` rules are SQL boolean
  expressions every row must satisfy (quarantined otherwise); ``type: sql`` rules are
  set-level queries the raw gates run on the loaded partition.
- tag ``free-text`` on a string property: text people type, where personal data typed by
  mistake is cut out at ingestion (every other text column quarantines such a row).
- top-level custom property ``businessDateColumn``: the column whose Asia/Shanghai local
  date must equal the delivery folder's business date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

import polars as pl
from open_data_contract_standard.model import OpenDataContractStandard, SchemaProperty

from pipelines.pii import CHECKED_KINDS
from pipelines.settings import CONTRACTS_DIR, SOURCES

PII_KINDS = ("phone", "email", "name", "id_number")
ROW_CONDITION_ENGINE = "sql-row-condition"
_DECIMAL_TYPE = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)$")


class ContractError(ValueError):
    """A contract file is not one yecai can use; the message names the file and the field."""


@dataclass(frozen=True)
class Column:
    name: str
    logical_type: str
    physical_type: str
    required: bool
    primary_key_position: int | None = None
    pattern: str | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    max_length: int | None = None
    valid_values: tuple[str, ...] | None = None
    pii_kind: str | None = None
    description: str = ""
    free_text: bool = False

    @property
    def is_pii(self) -> bool:
        return self.pii_kind is not None

    @property
    def decimal_scale(self) -> int | None:
        match = _DECIMAL_TYPE.match(self.physical_type)
        return int(match.group(2)) if match else None

    @property
    def polars_dtype(self) -> pl.DataType:
        match = _DECIMAL_TYPE.match(self.physical_type)
        if match:
            return pl.Decimal(int(match.group(1)), int(match.group(2)))
        return {
            "VARCHAR": pl.String(),
            "INTEGER": pl.Int32(),
            "BIGINT": pl.Int64(),
            "DATE": pl.Date(),
            "TIMESTAMPTZ": pl.Datetime("us", "UTC"),
            "BOOLEAN": pl.Boolean(),
        }[self.physical_type]


@dataclass(frozen=True)
class Reference:
    """A foreign key from extract columns into a seed (reference data) table."""

    columns: tuple[str, ...]
    seed: str
    seed_columns: tuple[str, ...]


@dataclass(frozen=True)
class RowRule:
    name: str
    description: str
    condition: str


@dataclass(frozen=True)
class SetRule:
    name: str
    description: str
    query: str
    must_be: int


@dataclass(frozen=True)
class Contract:
    source: str
    version: str
    owner: str
    business_date_column: str
    columns: tuple[Column, ...]
    references: tuple[Reference, ...]
    row_rules: tuple[RowRule, ...]
    set_rules: tuple[SetRule, ...]
    path: Path

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def primary_key(self) -> tuple[str, ...]:
        keyed = [c for c in self.columns if c.primary_key_position is not None]
        return tuple(c.name for c in sorted(keyed, key=lambda c: c.primary_key_position or 0))

    @property
    def pii_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.is_pii)

    def column(self, name: str) -> Column:
        for candidate in self.columns:
            if candidate.name == name:
                return candidate
        raise KeyError(f"{self.source} contract has no column {name!r}")

    def lake_schema(self) -> dict[str, pl.DataType]:
        """Columns of the raw lake: typed contract columns, PII as token + masked display."""
        schema: dict[str, pl.DataType] = {}
        for col in self.columns:
            if col.is_pii:
                schema[f"{col.name}_token"] = pl.String()
                schema[f"{col.name}_masked"] = pl.String()
                if col.pii_kind in CHECKED_KINDS:
                    schema[f"{col.name}_valid"] = pl.Boolean()
            else:
                schema[col.name] = col.polars_dtype
        schema["_source_file"] = pl.String()
        schema["_source_row_number"] = pl.Int64()
        return schema

    def quarantine_schema(self) -> dict[str, pl.DataType]:
        """Quarantined rows keep every value as delivered (text), PII tokenised."""
        schema: dict[str, pl.DataType] = {
            "_source_file": pl.String(),
            "_source_row_number": pl.Int64(),
            "_reason": pl.String(),
        }
        plain = {c.name for c in self.columns if not c.is_pii}
        for name, dtype in self.lake_schema().items():
            if not name.startswith("_"):
                schema[name] = pl.String() if name in plain else dtype
        return schema


def _custom_property(items, name: str):
    for item in items or []:
        if item.property == name:
            return item.value
    return None


def _strip_table(ref: str, table: str) -> str:
    return ref.split(".", 1)[1] if ref.startswith(f"{table}.") else ref


def _seed_ref(ref: str, path: Path) -> tuple[str, str]:
    parts = ref.split(".")
    if len(parts) != 2:
        raise ContractError(f"{path}: relationship target {ref!r} must be <seed>.<column>")
    return parts[0], parts[1]


def _column(prop: SchemaProperty, path: Path) -> tuple[Column, list[Reference]]:
    if not prop.name or not prop.logicalType or not prop.physicalType:
        raise ContractError(f"{path}: every property needs name, logicalType and physicalType")
    options = prop.logicalTypeOptions or {}
    valid_values = None
    for rule in prop.quality or []:
        if rule.metric == "invalidValues" and rule.arguments and "validValues" in rule.arguments:
            valid_values = tuple(str(v) for v in rule.arguments["validValues"])
    pii_kind = _custom_property(prop.customProperties, "piiKind")
    if ("pii" in (prop.tags or [])) != (pii_kind is not None) or (
        pii_kind is not None and pii_kind not in PII_KINDS
    ):
        raise ContractError(
            f"{path}: property {prop.name} must carry both tag 'pii' and a piiKind "
            f"custom property (one of {', '.join(PII_KINDS)}), or neither"
        )
    column = Column(
        name=prop.name,
        logical_type=prop.logicalType,
        physical_type=prop.physicalType.upper(),
        required=bool(prop.required),
        primary_key_position=prop.primaryKeyPosition if prop.primaryKey else None,
        pattern=options.get("pattern"),
        minimum=Decimal(str(options["minimum"])) if "minimum" in options else None,
        maximum=Decimal(str(options["maximum"])) if "maximum" in options else None,
        max_length=options.get("maxLength"),
        valid_values=valid_values,
        pii_kind=pii_kind,
        description=prop.description or "",
        free_text="free-text" in (prop.tags or []),
    )
    try:
        column.polars_dtype  # noqa: B018 - validates the physical type early
    except KeyError as exc:
        raise ContractError(
            f"{path}: property {prop.name} has physicalType {prop.physicalType!r}; use one of "
            "VARCHAR, INTEGER, BIGINT, DECIMAL(p,s), DATE, TIMESTAMPTZ, BOOLEAN"
        ) from exc
    references = []
    for rel in prop.relationships or []:
        seed, seed_column = _seed_ref(str(rel.to), path)
        references.append(Reference((prop.name,), seed, (seed_column,)))
    return column, references


def parse_contract(path: Path) -> Contract:
    try:
        odcs = OpenDataContractStandard.from_file(str(path))
    except Exception as exc:  # pydantic / yaml errors: name the file
        raise ContractError(f"{path}: not a valid ODCS v3 contract: {exc}") from exc
    if not odcs.schema_ or len(odcs.schema_) != 1:
        raise ContractError(f"{path}: yecai expects exactly one schema object per contract")
    table = odcs.schema_[0]
    columns: list[Column] = []
    references: list[Reference] = []
    for prop in table.properties or []:
        column, refs = _column(prop, path)
        columns.append(column)
        references.extend(refs)
    for rel in table.relationships or []:
        from_cols = rel.from_ if isinstance(rel.from_, list) else [rel.from_]
        to_cols = rel.to if isinstance(rel.to, list) else [rel.to]
        targets = [_seed_ref(str(t), path) for t in to_cols]
        if len({seed for seed, _ in targets}) != 1 or len(from_cols) != len(targets):
            raise ContractError(f"{path}: a relationship must map its columns into one seed")
        references.append(
            Reference(
                tuple(_strip_table(str(c), table.name or "") for c in from_cols),
                targets[0][0],
                tuple(col for _, col in targets),
            )
        )
    row_rules, set_rules = [], []
    for rule in table.quality or []:
        if rule.type == "custom" and rule.engine == ROW_CONDITION_ENGINE:
            row_rules.append(
                RowRule(rule.name or "", rule.description or "", str(rule.implementation))
            )
        elif rule.type == "sql" and rule.query:
            set_rules.append(
                SetRule(rule.name or "", rule.description or "", rule.query, int(rule.mustBe or 0))
            )
    business_date_column = _custom_property(odcs.customProperties, "businessDateColumn")
    names = {c.name for c in columns}
    if business_date_column not in names:
        raise ContractError(
            f"{path}: custom property businessDateColumn must name one of the columns"
        )
    for ref in references:
        unknown = set(ref.columns) - names
        if unknown:
            raise ContractError(f"{path}: relationship names unknown columns {sorted(unknown)}")
    team = odcs.team
    owner = team.name if team is not None and hasattr(team, "name") else ""
    return Contract(
        source=odcs.name or path.stem.split(".")[0],
        version=odcs.version or "",
        owner=owner or "",
        business_date_column=business_date_column,
        columns=tuple(columns),
        references=tuple(references),
        row_rules=tuple(row_rules),
        set_rules=tuple(set_rules),
        path=path,
    )


@cache
def load_contract(source: str, contracts_dir: Path = CONTRACTS_DIR) -> Contract:
    path = contracts_dir / f"{source}.odcs.yaml"
    if not path.exists():
        raise ContractError(f"no contract for source {source!r}: expected {path}")
    return parse_contract(path)


def load_contracts(contracts_dir: Path = CONTRACTS_DIR) -> dict[str, Contract]:
    return {source: load_contract(source, contracts_dir) for source in SOURCES}
