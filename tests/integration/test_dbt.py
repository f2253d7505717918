"""The dbt project's own checks: every unit test (business rule) passes, on an empty warehouse."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb

from pipelines import periods
from pipelines.ingest import audit as ingest_audit
from pipelines.settings import DBT_PROJECT_DIR, HOME_ENV

DBT = str(Path(sys.executable).with_name("dbt"))


def dbt(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, HOME_ENV: str(home), "DBT_LOG_PATH": str(home / "logs")}
    return subprocess.run(
        [DBT, *args, "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(home / "target")],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_every_business_rule_unit_test_passes(tmp_path, dbt_manifest):
    (tmp_path / "warehouse").mkdir()
    # The tables yecai writes before any dbt build (ingestion's audit, period close).
    with duckdb.connect(str(tmp_path / "warehouse" / "build.duckdb")) as con:
        ingest_audit.ensure_tables(con)
        periods.ensure_tables(con)
    empty = dbt(
        tmp_path,
        "build",
        "--empty",
        "--exclude-resource-type",
        "unit_test",
        "--exclude-resource-type",
        "test",
    )
    assert empty.returncode == 0, empty.stdout[-3000:]
    result = dbt(tmp_path, "test", "--select", "test_type:unit")
    assert result.returncode == 0, result.stdout[-5000:]
    run = json.loads((tmp_path / "target" / "run_results.json").read_text())
    statuses = {
        r["unique_id"].split(".")[-1]: r["status"]
        for r in run["results"]
        if r["unique_id"].startswith("unit_test.")  # not the on-run-start hook
    }
    assert len(statuses) >= 15 and set(statuses.values()) == {"pass"}, statuses
    for rule in (
        "revenue_is_recognised_net_of_discount_and_points_earned",
        "cost_is_the_latest_snapshot_at_or_before_the_date_with_fallbacks",
        "returns_enter_with_negative_signs",
        "each_dispensing_rule_gives_its_reason",
        "recon_status_by_tolerance",
        "points_are_spent_first_in_first_out_across_brands",
        "rfm_scores_and_segments",
        "daily_activity_counts_each_order_once_and_keeps_the_latest_contact",
        "a_nightly_liability_carries_each_brands_balance_forward",
        "identity_merge_keeps_the_earlier_anchor_and_moves_the_other_person",
    ):
        assert statuses.get(rule) == "pass", rule


def test_no_view_depends_on_the_run_window(dbt_manifest):
    """A view keeps the SQL of the run that created it: if it read the window vars, a later
    partial build (a subset of dbt assets from the UI) would read a stale window."""
    manifest = json.loads(dbt_manifest.read_text())
    window_words = ("in_window", "window_start", "window_end", "start_date", "end_date")
    offenders = [
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["config"]["materialized"] in ("view", "ephemeral", "table")
        and any(word in node["raw_code"] for word in window_words)
    ]
    assert offenders == []


def _models(manifest: dict) -> dict[str, dict]:
    return {k: v for k, v in manifest["nodes"].items() if v["resource_type"] == "model"}


def test_no_staging_or_intermediate_model_reads_a_mart(dbt_manifest):
    """The DAG runs one way: staging → intermediate → marts (dbt-project-evaluator's rules,
    kept here in the suite; README of the dbt project says how to run the evaluator)."""
    manifest = json.loads(dbt_manifest.read_text())
    models = _models(manifest)
    layer = {"staging": 0, "intermediate": 1, "marts": 2}
    offenders = [
        (node["name"], models[parent]["name"])
        for node in models.values()
        for parent in node["depends_on"]["nodes"]
        if parent in models and layer[models[parent]["schema"]] > layer[node["schema"]]
    ]
    assert offenders == []


def test_every_model_has_a_key_test(dbt_manifest):
    manifest = json.loads(dbt_manifest.read_text())
    tested: dict[str, set] = {}
    for node in manifest["nodes"].values():
        meta = node.get("test_metadata")
        if node["resource_type"] == "test" and meta:
            column = meta.get("kwargs", {}).get("column_name")
            tested.setdefault(node["attached_node"], set()).add((meta["name"], column))
    keyless = []
    for uid, node in _models(manifest).items():
        tests = tested.get(uid, set())
        combined = any(name == "unique_combination" for name, _ in tests)
        column_key = any(
            ("unique", c) in tests and (("not_null", c) in tests or _not_null_constraint(node, c))
            for _, c in tests
        )
        if not (combined or column_key):
            keyless.append(node["name"])
    assert keyless == []


def test_every_closing_mart_is_a_view_over_what_is_built(dbt_manifest):
    """A mart with a month shows its closed months as closed: a view, so a run changes it
    where its as-built model changes (a table would be rebuilt, and gated, whole)."""
    manifest = json.loads(dbt_manifest.read_text())
    closing = {
        node["name"]: node["config"]["materialized"]
        for node in _models(manifest).values()
        if (node["config"].get("meta") or {}).get("period_column")
    }
    assert closing and set(closing.values()) == {"view"}, closing


def _not_null_constraint(node: dict, column: str | None) -> bool:
    spec = node["columns"].get(column or "", {})
    return any(c.get("type") == "not_null" for c in spec.get("constraints", []))


CHINESE = re.compile(r"[\u4e00-\u9fff]")


def test_every_mart_column_is_described_with_its_business_term(dbt_manifest):
    """Analysts read these descriptions in dbt docs and as comments in marts.duckdb."""
    manifest = json.loads(dbt_manifest.read_text())
    missing = [
        f"{node['name']}.{column}"
        for node in _models(manifest).values()
        if node["schema"] == "marts"
        for column, spec in node["columns"].items()
        if not CHINESE.search(spec.get("description") or "")
    ]
    assert missing == []


def _lake_partition(home: Path, day: str, extra_column: bool) -> None:
    """A raw sales partition with the source's columns (and one more, as after a contract
    change added it)."""
    import duckdb

    folder = home / "lake" / "raw" / "sales" / f"business_date={day}"
    folder.mkdir(parents=True)
    extra = ", 'x' as added_later" if extra_column else ""
    with duckdb.connect() as con:
        con.execute(
            f"copy (select 'O1' as order_id, 1 as line_no{extra}) to '{folder / 'part.parquet'}'"
        )


def _compiled_staging(home: Path) -> str:
    (home / "warehouse").mkdir(exist_ok=True)
    result = dbt(
        home,
        "compile",
        "--select",
        "stg_sales__order_lines",
        "--vars",
        '{"start_date": "2024-03-01", "end_date": "2024-03-02"}',
    )
    assert result.returncode == 0, result.stdout[-3000:]
    path = home / "target" / "compiled" / "yecai" / "models" / "staging" / "sales"
    return (path / "stg_sales__order_lines.sql").read_text()


def test_the_lake_is_read_by_name_only_while_its_files_differ(tmp_path, dbt_manifest):
    """Reading every footer (union_by_name) on each query is what years of partitions
    cost; it is needed only while the lake mixes schemas."""
    _lake_partition(tmp_path, "2024-03-01", extra_column=False)
    _lake_partition(tmp_path, "2024-03-02", extra_column=False)
    compiled = _compiled_staging(tmp_path)
    assert "read_parquet(" in compiled and "union_by_name" not in compiled
    _lake_partition(tmp_path, "2024-03-03", extra_column=True)
    assert "union_by_name = true" in _compiled_staging(tmp_path)


# The columns a mart carries codes in: each joins to a dim for its names (SPEC §6, §12).
CODE_COLUMN = re.compile(r"(_code|^store_id|^sku|category|^campaign_id|_date|period|^measure)$")
# Code-shaped columns that are not a dim's members, and why.
NOT_A_DIM_MEMBER = {
    "compliance_traceability.trace_code": "one item's code, unique per unit sold",
    "fct_sales_margin.trace_code": "one item's code, unique per unit sold",
    "compliance_traceability.expiry_date": "a batch's expiry, years past the calendar",
    "period_adjustments.measure": "the name of the mart column that changed",
}


def test_every_code_column_of_a_mart_joins_to_a_dim(dbt_manifest):
    """Analysts find the name of every code they see: a relationships test from each code
    column of a mart to the dim that names it."""
    manifest = json.loads(dbt_manifest.read_text())
    joined = {
        (node["attached_node"], node["test_metadata"]["kwargs"]["column_name"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test"
        and (node.get("test_metadata") or {}).get("name") == "relationships"
        and "dim_" in node["test_metadata"]["kwargs"].get("to", "")
    }
    unjoined = [
        f"{node['name']}.{column}"
        for uid, node in _models(manifest).items()
        if node["schema"] == "marts" and not node["name"].startswith("dim_")
        for column in node["columns"]
        if CODE_COLUMN.search(column)
        and f"{node['name']}.{column}" not in NOT_A_DIM_MEMBER
        and (uid, column) not in joined
    ]
    assert unjoined == []
