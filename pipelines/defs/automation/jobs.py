"""The main job (ingest, build, gate and publish a partition window in one run) and what
starts it unattended."""

from __future__ import annotations

import dagster as dg

from pipelines.defs.automation.triggers import (
    abandoned_run_sensor,
    failed_run_sensor,
    late_file_sensor,
    nightly_schedule,
)

MAIN_JOB = "yecai_daily"


def automation_definitions() -> dg.Definitions:
    # In-process, like every job of the code location (see pipelines/defs/__init__.py).
    job = dg.define_asset_job(
        MAIN_JOB,
        selection=dg.AssetSelection.all(),
        description="Ingest, build, gate and publish the selected business dates.",
    )
    return dg.Definitions(
        jobs=[job],
        schedules=[nightly_schedule(job)],
        sensors=[late_file_sensor(job), failed_run_sensor(), abandoned_run_sensor()],
    )
