"""The gate suites (SPEC §7): what must hold before analysts see a number.

Every suite is SQL run by DuckDB through Great Expectations. Each belongs to a gate (a
Dagster asset check, named gate_<gate>, on one asset) whose severity comes from gates.yaml.
Queries that look for personal data return keys only, never the value they found: results
end up in the UI, the gate history and Data Docs.

- raw (per source, checked on its staging model): generated from the data contract, on
  the rows loaded for the window; and, from the ingestion audit, every business date
  delivered and the quarantine rate under its threshold;
- pii (per mart): no value shaped like a phone, e-mail or ID number;
- marts (per mart): from the dbt project itself: the keys of its unique tests, its
  expression tests, and every DECIMAL contract column not null;
- completeness: every loaded sale line reaches fct_sales_margin, daily totals tie, every
  prescription-drug line of the window is either listed as a violation or compliant;
- reconciliation: brand-days whose revenue or COGS difference exceeds the configured share
  of the day's revenue fail it; smaller differences only warn;
- compliance: what the compliance marts list (warn).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import great_expectations as gx

from pipelines.contracts import Contract, load_contracts
from pipelines.defs.gates.config import GateConfig
from pipelines.defs.gates.gx_duckdb import Expectation, Suite

STAGING_MODELS = {
    "sales": "stg_sales__order_lines",
    "inventory": "stg_inventory__snapshots",
    "consultations": "stg_consultations__prescription_items",
    "ledger": "stg_ledger__journal_lines",
}
STAGING_RENAMES = {"_source_file": "source_file", "_source_row_number": "source_row_number"}
# Tokens and customer keys are hashes: their hex digits can form phone-shaped runs.
TOKEN_SHAPES = "[0-9a-f]{64}|C[0-9A-F]{16}"
# Matched after tokens and separators (spaces, dashes) are taken out: a phone written
# "+86 138-1234-5678" is still a phone.
SEPARATORS = r"[\s-]"
PII_SHAPES = {
    "phone": r"(^|[^0-9])(0086|86)?1[3-9][0-9]{9}([^0-9]|$)",
    "e-mail": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z.]{2,}",
    "ID number": r"(^|[^0-9])[0-9]{17}[0-9Xx]([^0-9]|$)",
}
EVERYTHING = (date(1900, 1, 1), date(2999, 12, 31))
ROW_KEY = "source_file, source_row_number"  # where a failing loaded row came from


@dataclass(frozen=True)
class Window:
    start: date
    end: date

    def sql(self, column: str) -> str:
        return f"{column} between date '{self.start}' and date '{self.end}'"


@dataclass(frozen=True)
class GateSuite:
    """A suite, the gate (check) it decides, and the asset that gate belongs to."""

    gate: str
    asset: tuple[str, str]
    suite: Suite


def _unexpected(query: str, label: str, *, warn_only: bool = False) -> Expectation:
    """Every row the query finds is a failure; the query reads the batch as {batch}."""
    return Expectation(
        gx.expectations.UnexpectedRowsExpectation(unexpected_rows_query=query, description=label),
        label,
        warn_only,
    )


def _text(value: str) -> str:
    """A SQL string literal's body, braces doubled: GX formats queries ({batch})."""
    return value.replace("'", "''").replace("{", "{{").replace("}", "}}")


# ---------------------------------------------------------------- raw (contract) ----


def raw_suite(contract: Contract, window: Window, config: GateConfig) -> GateSuite:
    model = STAGING_MODELS[contract.source]
    expectations: list[Expectation] = []
    for column in contract.columns:
        name = column.name
        if column.is_pii:
            token = f"{name}_token"
            expectations.append(
                _unexpected(
                    f"select {ROW_KEY} from {{batch}} where {token} "
                    f"is not null and not regexp_full_match({token}, '{_text('[0-9a-f]{64}')}')",
                    f"{token} holds tokens only",
                )
            )
            continue
        if column.required:
            expectations.append(
                Expectation(
                    gx.expectations.ExpectColumnValuesToNotBeNull(column=name),
                    f"{name} is never empty",
                )
            )
        if column.valid_values:
            expectations.append(
                Expectation(
                    gx.expectations.ExpectColumnValuesToBeInSet(
                        column=name, value_set=list(column.valid_values)
                    ),
                    f"{name} in {', '.join(column.valid_values)}",
                )
            )
        if column.pattern:
            expectations.append(
                _unexpected(
                    f"select {ROW_KEY} from {{batch}} where {name} is not null and not "
                    f"regexp_matches(cast({name} as varchar), '{_text(column.pattern)}')",
                    f"{name} matches the contract's pattern",
                )
            )
        if column.minimum is not None or column.maximum is not None:
            expectations.append(
                Expectation(
                    gx.expectations.ExpectColumnValuesToBeBetween(
                        column=name,
                        min_value=float(column.minimum) if column.minimum is not None else None,
                        max_value=float(column.maximum) if column.maximum is not None else None,
                    ),
                    f"{name} within its bounds",
                )
            )
    expectations.append(
        Expectation(
            gx.expectations.ExpectCompoundColumnsToBeUnique(column_list=list(contract.primary_key)),
            f"key ({', '.join(contract.primary_key)}) unique",
        )
    )
    for rule in contract.row_rules:
        expectations.append(
            _unexpected(
                f"select {ROW_KEY} from {{batch}} where not ({rule.condition})",
                f"rule {rule.name}: {rule.description}",
            )
        )
    for rule in contract.set_rules:
        query = rule.query.replace("${object}", "{batch}")
        expectations.append(
            _unexpected(
                f"select value from (select ({query}) as value) as measured "
                f"where value <> {rule.must_be}",
                f"rule {rule.name}: {rule.description}",
            )
        )
    query = f"select * from staging.{model} where {window.sql('business_date')}"
    return GateSuite(
        "gate_raw", ("staging", model), Suite(f"raw_{contract.source}", query, tuple(expectations))
    )


def delivery_suite(source: str, window: Window, config: GateConfig) -> GateSuite:
    """The source's files of the window, as ingestion recorded them (latest delivery of
    each file): every business date delivered, quarantine rate under the threshold."""
    files = (
        f"select * from audit.ingest_files where source = '{_text(source)}' "
        f"and status = 'LOADED' and {window.sql('business_date')} qualify row_number() "
        "over (partition by business_date, file_name order by ingested_at desc) = 1"
    )
    expectations = [
        _unexpected(
            f"""select business_date, rows_quarantined, rows_read from (
                select business_date, sum(rows_quarantined) as rows_quarantined,
                    sum(rows_read) as rows_read
                from {{batch}} group by business_date) as daily
            where rows_quarantined > {config.quarantine_rows_tolerated}
                and rows_quarantined > {config.quarantine_rate_max} * rows_read""",
            f"quarantine rate at most {config.quarantine_rate_max:.1%} per business date "
            f"(or at most {config.quarantine_rows_tolerated} rows)",
        )
    ]
    if window.start != EVERYTHING[0]:
        expectations.append(
            _unexpected(
                f"""select business_date from (
                    select cast(day as date) as business_date from generate_series(
                        date '{window.start}', date '{window.end}', interval 1 day) as days(day)
                ) as days
                where business_date not in (select business_date from {{batch}})""",
                "every business date delivered",
            )
        )
    return GateSuite(
        "gate_raw",
        ("staging", STAGING_MODELS[source]),
        Suite(f"delivery_{source}", files, tuple(expectations)),
    )


# ------------------------------------------------------------------ marts (dbt) ----


@dataclass(frozen=True)
class MartSpec:
    name: str
    keys: tuple[tuple[str, ...], ...]
    expressions: tuple[str, ...]
    money: tuple[str, ...]
    text_columns: tuple[str, ...]


def mart_specs(manifest_path: Path) -> list[MartSpec]:
    """Keys, expressions and money columns of every mart, from the dbt project's own tests
    and contracts: one place for each fact."""
    manifest = json.loads(manifest_path.read_text())
    models = {
        node["unique_id"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["schema"] == "marts"
    }
    keys: dict[str, list] = {uid: [] for uid in models}
    expressions: dict[str, list] = {uid: [] for uid in models}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or not node.get("test_metadata"):
            continue
        model = node.get("attached_node")
        if model not in models:
            continue
        meta = node["test_metadata"]
        kwargs = meta.get("kwargs", {})
        if meta["name"] == "unique_combination":
            keys[model].append(tuple(kwargs["columns"]))
        elif meta["name"] == "unique":
            keys[model].append((kwargs["column_name"],))
        elif meta["name"] == "expression_is_true":
            expressions[model].append(kwargs["expression"])
    specs = []
    for uid, node in sorted(models.items(), key=lambda item: item[1]["name"]):
        columns = node["columns"]
        specs.append(
            MartSpec(
                name=node["name"],
                keys=tuple(keys[uid]),
                expressions=tuple(expressions[uid]),
                money=tuple(
                    c
                    for c, spec in columns.items()
                    if (spec.get("data_type") or "").lower() == "decimal(18,2)"
                    and any(k.get("type") == "not_null" for k in spec.get("constraints", []))
                ),
                text_columns=tuple(
                    c
                    for c, spec in columns.items()
                    if (spec.get("data_type") or "").lower() == "varchar"
                ),
            )
        )
    return specs


def marts_suite(spec: MartSpec) -> GateSuite:
    expectations = [
        Expectation(
            gx.expectations.ExpectCompoundColumnsToBeUnique(column_list=list(key))
            if len(key) > 1
            else gx.expectations.ExpectColumnValuesToBeUnique(column=key[0]),
            f"one row per ({', '.join(key)})",
        )
        for key in spec.keys
    ]
    expectations += [
        Expectation(gx.expectations.ExpectColumnValuesToNotBeNull(column=c), f"{c} is never null")
        for c in spec.money
    ]
    expectations += [
        _unexpected(f"select * from {{batch}} where not ({e})", f"{e} holds on every row")
        for e in spec.expressions
    ]
    return _mart_suite("gate_marts", spec.name, f"marts_{spec.name}", *expectations)


def _mart_suite(gate: str, mart: str, suite_name: str, *expectations: Expectation) -> GateSuite:
    """A suite whose batch is one mart (its queries read it as {batch})."""
    return GateSuite(
        gate, ("marts", mart), Suite(suite_name, f"select * from marts.{mart}", expectations)
    )


def pii_suite(spec: MartSpec) -> GateSuite:
    """Values shaped like personal data in any text column (masked columns included: a
    mask never leaves 11 digits in a row). Returns the column, never the value."""
    expectations = []
    for kind, shape in PII_SHAPES.items():
        checks = (
            " union all ".join(
                f"select '{c}' as column_name from {{batch}} where regexp_matches("
                f"regexp_replace(regexp_replace({c}, '{_text(TOKEN_SHAPES)}', '', 'g'), "
                f"'{_text(SEPARATORS)}', '', 'g'), '{_text(shape)}')"
                for c in spec.text_columns
            )
            or "select null as column_name from {batch} where false"
        )
        expectations.append(_unexpected(checks, f"no {kind} in any text column"))
    return _mart_suite("gate_pii", spec.name, f"pii_{spec.name}", *expectations)


# ---------------------------------------------------------------- completeness ----


def completeness_suite(window: Window) -> GateSuite:
    in_window = window.sql("business_date")
    rx_check = f"""
        with marts_lines as (select * from {{batch}}),
        lines as (
            select * from marts_lines
            where line_type = 'SALE' and {in_window}
                and sku in (select sku from reference.products where is_rx)
        ),
        items as (select * from intermediate.int_compliance__prescription_items),
        dispensed as (
            select order_id, line_no, sum(quantity) over (
                partition by prescription_id, sku order by order_ts, order_id, line_no
                rows between unbounded preceding and current row) as units
            from marts_lines
            where line_type = 'SALE' and prescription_id in (select prescription_id from lines)
        ),
        compliant as (
            select lines.order_id, lines.line_no from lines
            join items on lines.prescription_id = items.prescription_id and lines.sku = items.sku
            join dispensed
                on lines.order_id = dispensed.order_id and lines.line_no = dispensed.line_no
            join reference.stores as stores on lines.store_id = stores.store_id
            where items.issued_ts <= lines.order_ts and lines.business_date <= items.rx_valid_until
                and dispensed.units <= items.rx_max_qty
                and lines.business_date
                    between stores.license_valid_from and stores.license_valid_to
        )
        select order_id, line_no from lines
        where (order_id, line_no) not in (select order_id, line_no from compliant)
            and (order_id, line_no) not in (
                select order_id, line_no from marts.compliance_rx_violations)"""
    return _mart_suite(
        "gate_completeness",
        "fct_sales_margin",
        "completeness",
        _unexpected(
            """with marts_lines as (select order_id, line_no from {batch})
               select order_id, line_no from staging.stg_sales__order_lines as staged
               where not exists (select 1 from marts_lines
                   where marts_lines.order_id = staged.order_id
                       and marts_lines.line_no = staged.line_no)""",
            "every loaded sale line reaches fct_sales_margin",
        ),
        _unexpected(
            """with marts_lines as (select * from {batch})
               select business_date from (
                   select business_date, count(*) as lines,
                       sum(case when line_type = 'RETURN' then -1 else 1 end
                           * quantity * unit_price) as gross_sales
                   from staging.stg_sales__order_lines group by business_date) as staged
               full outer join (
                   select business_date, count(*) as lines, sum(gross_sales) as gross_sales
                   from marts_lines group by business_date) as marts
               using (business_date)
               where staged.lines is distinct from marts.lines
                   or staged.gross_sales is distinct from marts.gross_sales""",
            "daily line counts and gross sales equal the staged lines",
        ),
        _unexpected(rx_check, "every prescription-drug line is compliant or listed as a violation"),
    )


# ------------------------------------------------------- reconciliation & compliance ----


def reconciliation_suite(window: Window, config: GateConfig) -> GateSuite:
    share = config.reconciliation_break_share
    in_window = window.sql("business_date")
    major = _unexpected(
        f"""with days as (
                select business_date, brand_code,
                    max(case when measure = 'REVENUE' then abs(operational_amount) end)
                        as revenue,
                    max(case when measure in ('REVENUE', 'COGS') then abs(difference) end)
                        as difference
                from {{batch}} where {in_window}
                group by business_date, brand_code)
            select business_date, brand_code, difference, revenue from days
            where difference > {share} * coalesce(revenue, 0)""",
        f"no brand-day revenue or COGS difference above {share:.1%} of its revenue",
    )
    minor = _unexpected(
        f"""select business_date, brand_code, measure, difference from {{batch}}
            where {in_window} and status <> 'MATCHED'""",
        "every brand-day measure matched",
        warn_only=True,
    )
    return _mart_suite("gate_reconciliation", "recon_sales_ledger", "reconciliation", major, minor)


def compliance_suites(window: Window) -> list[GateSuite]:
    in_window = window.sql("business_date")
    months = (
        f"period between strftime(date '{window.start}', '%Y-%m') "
        f"and strftime(date '{window.end}', '%Y-%m')"
    )
    return [
        _mart_suite(
            "gate_compliance",
            "compliance_rx_violations",
            "rx_compliance",
            _unexpected(
                f"select order_id, line_no, reason from {{batch}} where {in_window}",
                "no prescription-drug violation",
            ),
        ),
        _mart_suite(
            "gate_compliance",
            "compliance_traceability",
            "traceability",
            _unexpected(
                f"select order_id, line_no, issue from {{batch}} where {in_window}",
                "no traceability issue",
            ),
        ),
        _mart_suite(
            "gate_compliance",
            "marketing_budget_vs_actual",
            "marketing_budget",
            _unexpected(
                f"select campaign_id, period from {{batch}} where is_over_budget and {months}",
                "no campaign over budget",
            ),
        ),
    ]


def all_suites(window: Window, config: GateConfig, manifest_path: Path) -> list[GateSuite]:
    specs = mart_specs(manifest_path)
    contracts = load_contracts().values()
    return [
        *(raw_suite(contract, window, config) for contract in contracts),
        *(delivery_suite(contract.source, window, config) for contract in contracts),
        *(pii_suite(spec) for spec in specs),
        *(marts_suite(spec) for spec in specs),
        completeness_suite(window),
        reconciliation_suite(window, config),
        *compliance_suites(window),
    ]
