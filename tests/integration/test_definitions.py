"""The Dagster code location: every asset, check and job a user relies on is there."""

from datetime import date

import dagster as dg
import pytest

from pipelines.defs import build_definitions
from pipelines.defs.automation.jobs import MAIN_JOB
from pipelines.settings import SOURCES, Settings


@pytest.fixture
def defs(dbt_manifest, tmp_path) -> dg.Definitions:
    return build_definitions(Settings(home=tmp_path, start_date=date(2022, 7, 1)))


def test_every_expected_asset_is_defined(defs):
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    expected = {
        *(f"raw/{s}" for s in SOURCES),
        *(f"quarantine/{s}" for s in SOURCES),
        "staging/stg_sales__order_lines",
        "staging/stg_inventory__snapshots",
        "staging/stg_consultations__prescription_items",
        "staging/stg_ledger__journal_lines",
        "intermediate/int_inventory__location_costs",
        "intermediate/int_inventory__group_costs",
        "marts/fct_sales_margin",
        "marts/fct_margin_daily",
        "marts/customer_profile",
        "marts/customer_daily_activity",
        "marts/customer_key_merges",
        "marts/customer_key_splits",
        "marts/recon_sales_ledger",
        "marts/recon_breaks",
        "marts/points_liability",
        "marts/points_interbrand_settlement",
        "marts/marketing_budget_vs_actual",
        "marts/compliance_rx_violations",
        "marts/compliance_traceability",
        "marts/period_adjustments",
        "intermediate/int_identity__identifier_keys",
        "published/marts",
        "reports/dbt_docs",
        *(
            f"reference/{seed}"
            for seed in (
                "brands",
                "channels",
                "stores",
                "products",
                "chart_of_accounts",
                "marketing_budgets",
                "categories",
            )
        ),
    }
    assert expected <= keys


def test_lineage_runs_from_landing_to_the_published_file(defs):
    graph = defs.resolve_asset_graph()
    staged = graph.get(dg.AssetKey(["staging", "stg_sales__order_lines"]))
    assert dg.AssetKey(["raw", "sales"]) in staged.parent_keys
    published = graph.get(dg.AssetKey(["published", "marts"]))
    assert dg.AssetKey(["marts", "fct_sales_margin"]) in published.parent_keys


def test_error_gates_block_and_warn_gates_do_not(defs):
    graph = defs.resolve_asset_graph()

    def spec(asset: list[str], gate: str) -> dg.AssetCheckSpec:
        return graph.get_check_spec(dg.AssetCheckKey(dg.AssetKey(asset), gate))

    for source in ("stg_sales__order_lines", "stg_ledger__journal_lines"):
        raw = spec(["staging", source], "gate_raw")
        assert raw.blocking
        assert "raw_" in raw.description and "delivery_" in raw.description
    for mart in ("fct_sales_margin", "customer_profile", "recon_breaks"):
        assert spec(["marts", mart], "gate_pii").blocking
        assert spec(["marts", mart], "gate_marts").blocking
    assert spec(["marts", "fct_sales_margin"], "gate_completeness").blocking
    assert spec(["marts", "recon_sales_ledger"], "gate_reconciliation").blocking
    for mart in ("compliance_rx_violations", "compliance_traceability"):
        assert not spec(["marts", mart], "gate_compliance").blocking


def test_partitions_and_backfills(defs):
    job = defs.resolve_job_def(MAIN_JOB)
    partitions = job.partitions_def
    assert isinstance(partitions, dg.DailyPartitionsDefinition)
    assert partitions.timezone == "Asia/Shanghai"
    assert partitions.get_first_partition_key() == "2022-07-01"
    # Every partitioned asset backfills as one run: a single other policy in the selection
    # would split a 2,000-day backfill into many runs.
    graph = defs.resolve_asset_graph()
    partitioned = [graph.get(key) for key in graph.materializable_asset_keys]
    partitioned = [node for node in partitioned if node.is_partitioned]
    assert {"raw/sales", "marts/fct_sales_margin", "published/marts", "reports/daily"} <= {
        node.key.to_user_string() for node in partitioned
    }
    for node in partitioned:
        assert node.backfill_policy == dg.BackfillPolicy.single_run(), node.key
        assert node.partitions_def == partitions, node.key


def test_publishing_alone_refuses_without_its_gates(defs, tmp_path):
    """Dagster skips a blocked asset only inside the same run: the step checks itself."""
    job = dg.define_asset_job("publish_only", selection=[dg.AssetKey(["published", "marts"])])
    publish_only = dg.Definitions.merge(defs, dg.Definitions(jobs=[job])).resolve_job_def(
        "publish_only"
    )
    with dg.instance_for_test() as instance:
        result = publish_only.execute_in_process(
            instance=instance, partition_key="2024-03-01", raise_on_error=False
        )
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert "did not pass in this run" in failure.event_specific_data.user_failure_data.description
