"""The dbt project as Dagster assets, partitioned like the raw assets.

Every run passes its whole partition window (start and end) to dbt as --vars, so a range
backfill is one dbt invocation over the range, never one day silently standing for many.
"""

import json
import os
from collections.abc import Mapping
from functools import cache
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from pipelines.crash_points import crash_point
from pipelines.defs.automation.partitions import window_days
from pipelines.defs.resources import BuildDbLock, YecaiResource
from pipelines.defs.retry import retry_if_transient
from pipelines.gates.window import Window
from pipelines.identity_decisions import DecisionsInvalid, check_decisions, decisions_path
from pipelines.periods import ensure_period_tables
from pipelines.publish.pending import record_built
from pipelines.runs.summary import BAD_INPUT_TAG
from pipelines.settings import DBT_PROJECT_DIR, duckdb_memory_limit
from pipelines.transform.dbt_project import (
    MANIFEST_PATH,
    dbt_executable,
    prepare_manifest,
    prune_targets,
    publish_dbt_docs,
)
from pipelines.transform.manifest import load_manifest

DBT_DOCS = dg.AssetKey(["reports", "dbt_docs"])


@cache
def dbt_project() -> DbtProject:
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
    if os.environ.get("DAGSTER_IS_DEV_CLI"):
        # Under `dagster dev`, parse after a model changed, as yecai's commands do (not
        # DbtProject.prepare_if_dev: it runs whatever `dbt` is on PATH, none outside the venv).
        prepare_manifest()
    return project


class YecaiTranslator(DagsterDbtTranslator):
    """Lake sources are the raw assets; models are keyed and grouped by their layer."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            source, table = dbt_resource_props["source_name"], dbt_resource_props["name"]
            if table in ("lake_raw", "lake_quarantine"):
                return dg.AssetKey([table.removeprefix("lake_"), source])
            return dg.AssetKey([source, table])
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props.get("schema")


def dbt_vars(context: dg.AssetExecutionContext) -> dict[str, str]:
    days = window_days(context)
    return {
        "start_date": days[0].isoformat(),
        "end_date": days[-1].isoformat(),
        "duckdb_memory_limit": duckdb_memory_limit(len(days)),
    }


def transform_definitions(partitions: dg.PartitionsDefinition) -> dg.Definitions:
    project = dbt_project()

    @dbt_assets(
        manifest=MANIFEST_PATH,
        project=project,
        dagster_dbt_translator=YecaiTranslator(),
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        name="dbt_warehouse",
    )
    def dbt_warehouse(
        context: dg.AssetExecutionContext,
        dbt: DbtCliResource,
        yecai: YecaiResource,
        build_db_lock: BuildDbLock,  # noqa: ARG001 - held for the run
    ):
        window = dbt_vars(context)
        context.log.info(f"dbt build for {window['start_date']} .. {window['end_date']}")
        settings = yecai.settings()
        days = window_days(context)
        try:
            check_decisions(decisions_path(settings.home))
        except DecisionsInvalid as invalid:
            raise dg.Failure(
                description=str(invalid), metadata={BAD_INPUT_TAG: True}, allow_retries=False
            ) from None
        ensure_period_tables(settings.build_db, load_manifest(MANIFEST_PATH))
        record_built(settings.build_db, context.run.run_id, Window(days[0], days[-1]))
        targets = settings.dbt_target
        # dbt unit tests are the test suite's (tests/integration/test_dbt.py), not the run's:
        # they check the SQL, not the data, and need relations the first run creates.
        with retry_if_transient(context):
            for event in dbt.cli(
                ["build", "--exclude-resource-type", "unit_test", "--vars", json.dumps(window)],
                context=context,
                target_path=targets / context.run.run_id,
            ).stream():
                yield event
                # dbt is still building the models after this one: a kill mid-build.
                if isinstance(event, dg.Output):
                    crash_point(f"dbt.{event.output_name}")
        prune_targets(targets)

    @dg.asset(
        key=DBT_DOCS,
        deps=[dg.AssetKey(["marts", "fct_sales_margin"])],
        group_name="reports",
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds={"dbt"},
        description="dbt docs of the warehouse (models, columns, lineage) as one static page.",
    )
    def dbt_docs(
        context: dg.AssetExecutionContext,
        yecai: YecaiResource,
        build_db_lock: BuildDbLock,  # noqa: ARG001 - held for the run
    ) -> dg.MaterializeResult:
        settings = yecai.settings()
        run_id = context.run.run_id
        with retry_if_transient(context):
            docs = publish_dbt_docs(
                settings.reports / "dbt-docs",
                build_target=settings.dbt_target / run_id,
                scratch_target=settings.dbt_target / f"docs-{run_id}",
            )
        return dg.MaterializeResult(
            metadata={
                "page": dg.MetadataValue.path(str(docs.page)),
                "regenerated": docs.regenerated,
            }
        )

    return dg.Definitions(
        assets=[dbt_warehouse, dbt_docs],
        resources={"dbt": DbtCliResource(project_dir=project, dbt_executable=dbt_executable())},
    )
