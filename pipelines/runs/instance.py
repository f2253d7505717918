"""The Dagster instance of a home: its dagster.yaml, written by yecai."""

from __future__ import annotations

import os

from pipelines.library_patches import dagster_event_log
from pipelines.settings import Settings

YECAI_HEADER = "# Written by yecai for this home"
DAGSTER_YAML = """\
{header}: rewritten when it differs; remove this line to keep your own.
# Runs queue one at a time: only one writes build.duckdb.
telemetry:
  enabled: false
nux:
  enabled: false
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 1
"""
BATCHED_EVENT_LOG = """\
# Dagster's SQLite event log, writing each batch of asset events in one transaction.
event_log_storage:
  module: pipelines.library_patches.dagster_event_log
  class: BatchedSqliteEventLogStorage
  config:
    base_dir: {event_log_dir}
"""


def dagster_yaml(settings: Settings) -> str:
    text = DAGSTER_YAML.format(header=YECAI_HEADER)
    if dagster_event_log.is_enabled():
        text += BATCHED_EVENT_LOG.format(event_log_dir=settings.dagster_home / "history" / "runs")
    return text


def ensure_instance_home(settings: Settings) -> None:
    """Write the home's dagster.yaml (unless its owner took it over) and point Dagster at it."""
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    config = settings.dagster_home / "dagster.yaml"
    wanted = dagster_yaml(settings)
    if not config.exists() or (
        config.read_text(encoding="utf-8").startswith(YECAI_HEADER)
        and config.read_text(encoding="utf-8") != wanted
    ):
        config.write_text(wanted, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    os.environ["DAGSTER_EVENT_BATCH_SIZE"] = str(dagster_event_log.EVENT_BATCH_SIZE)
