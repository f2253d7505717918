"""The dbt project as Dagster assets, partitioned like the raw assets.

Every run passes its whole partition window (start and end) to dbt as --vars, so a range
backfill is one dbt invocation over the range, never one day silently standing for many.
"""

import hashlib
import json
import shutil
import sys
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from dbt.version import __version__ as dbt_version

from pipelines.crash_points import crash_point
from pipelines.defs.automation.partitions import window_days
from pipelines.defs.resources import YecaiResource
from pipelines.defs.writer import WarehouseWriter, retry_if_transient
from pipelines.settings import DBT_PROJECT_DIR, SEEDS_DIR

DBT_EXECUTABLE = Path(sys.executable).with_name("dbt")
KEEP_TARGETS = 20
DBT_DOCS = dg.AssetKey(["reports", "dbt_docs"])
DOCS_STAMP = ".fingerprint"  # of the project the published docs were generated from


@cache
def dbt_project() -> DbtProject:
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
    project.prepare_if_dev()
    return project


def dbt_executable() -> str:
    """dbt from this virtualenv (dagster-dbt otherwise looks for it on PATH)."""
    return str(DBT_EXECUTABLE) if DBT_EXECUTABLE.exists() else (shutil.which("dbt") or "dbt")


def project_files() -> list[Path]:
    """Every file the dbt project is made of: what its manifest and docs depend on."""
    return sorted(
        [
            p
            for folder in ("models", "macros", "tests")
            for p in (DBT_PROJECT_DIR / folder).rglob("*")
            if p.is_file()
        ]
        + [p for p in SEEDS_DIR.rglob("*") if p.is_file()]
        + [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    )


def docs_fingerprint() -> str:
    """Changes when the project or dbt changes: the docs (models, columns, lineage, column
    types) depend on nothing else."""
    digest = hashlib.sha256(dbt_version.encode())
    for path in project_files():
        digest.update(str(path.relative_to(DBT_PROJECT_DIR.parent)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def prepare_manifest() -> Path:
    """Parse the dbt project when its manifest is missing or older than its sources.

    Called by the CLI and the test suite before definitions load, never at import time.
    """
    project = dbt_project()
    manifest = project.manifest_path
    newest = max(p.stat().st_mtime for p in project_files())
    if not manifest.exists() or manifest.stat().st_mtime < newest:
        DbtCliResource(project_dir=project, dbt_executable=dbt_executable()).cli(
            ["parse", "--quiet"], target_path=project.target_path
        ).wait()
    return manifest


def prune_targets(targets: Path, keep: int = KEEP_TARGETS) -> None:
    """Keep the artifacts of the latest runs only (each holds a full manifest)."""
    runs = sorted((p for p in targets.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for old in runs[:-keep]:
        shutil.rmtree(old, ignore_errors=True)


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
    return {"start_date": days[0].isoformat(), "end_date": days[-1].isoformat()}


def transform_definitions(partitions: dg.PartitionsDefinition) -> dg.Definitions:
    project = dbt_project()

    @dbt_assets(
        manifest=project.manifest_path,
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
        writer: WarehouseWriter,
    ):
        window = dbt_vars(context)
        context.log.info(f"dbt build for {window['start_date']} .. {window['end_date']}")
        targets = yecai.settings().dbt_target
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
        dbt: DbtCliResource,
        yecai: YecaiResource,
        writer: WarehouseWriter,  # the catalog is read from build.duckdb
    ) -> dg.MaterializeResult:
        settings = yecai.settings()
        published = settings.reports / "dbt-docs"
        fingerprint = docs_fingerprint()
        stamp = published / DOCS_STAMP
        if stamp.exists() and stamp.read_text() == fingerprint:
            # Regenerating would give the same pages: skip dbt's ~7 s.
            return dg.MaterializeResult(
                metadata={
                    "page": dg.MetadataValue.path(str(published / "static_index.html")),
                    "regenerated": False,
                }
            )
        build_target = settings.dbt_target / context.run.run_id
        # Reuse the manifest this run's build compiled: only the catalog is queried.
        reuse = (build_target / "manifest.json").exists()
        args = ["docs", "generate", "--static", *(["--no-compile"] if reuse else [])]
        target = build_target if reuse else settings.dbt_target / f"docs-{context.run.run_id}"
        with retry_if_transient(context):
            dbt.cli(args, target_path=target).wait()
        published.mkdir(parents=True, exist_ok=True)
        for name in ("static_index.html", "index.html", "manifest.json", "catalog.json"):
            shutil.copyfile(target / name, published / name)
        stamp.write_text(fingerprint)
        return dg.MaterializeResult(
            metadata={
                "page": dg.MetadataValue.path(str(published / "static_index.html")),
                "regenerated": True,
            }
        )

    return dg.Definitions(
        assets=[dbt_warehouse, dbt_docs],
        resources={"dbt": DbtCliResource(project_dir=project, dbt_executable=dbt_executable())},
    )
