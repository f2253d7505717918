"""yecai's Dagster definitions, built from one Settings object; each area adds its own."""

from __future__ import annotations

import dagster as dg

from pipelines.defs.automation.jobs import automation_definitions
from pipelines.defs.automation.partitions import daily_partitions
from pipelines.defs.gates.audit import audit_definitions
from pipelines.defs.gates.checks import gates_definitions
from pipelines.defs.ingest.assets import ingest_definitions
from pipelines.defs.periods.jobs import period_definitions
from pipelines.defs.publish.assets import publish_definitions
from pipelines.defs.resources import BuildDbLock, YecaiResource
from pipelines.defs.transform.dbt import transform_definitions
from pipelines.settings import Settings


def build_definitions(settings: Settings) -> dg.Definitions:
    partitions = daily_partitions(settings)
    return dg.Definitions.merge(
        ingest_definitions(partitions),
        transform_definitions(partitions),
        gates_definitions(),
        audit_definitions(),
        period_definitions(),
        publish_definitions(partitions),
        automation_definitions(),
        dg.Definitions(
            # Every run in one process, its steps one after another: a spawned step costs
            # seconds, and the writer lock (a resource) is then held once for the whole run.
            # This is also the executor of the UI's ad-hoc asset jobs and backfills.
            executor=dg.in_process_executor,
            resources={
                "yecai": YecaiResource.from_settings(settings),
                "build_db_lock": BuildDbLock(warehouse=str(settings.warehouse)),
            },
        ),
    )
