"""The code location workspace.yaml loads, and the one door from the rest of the package
to the Dagster wiring in ``pipelines/defs`` (``yecai run`` executes the main job in
process through here)."""

import dagster as dg

from pipelines.defs import build_definitions
from pipelines.defs.automation.jobs import MAIN_JOB
from pipelines.settings import Settings

__all__ = ["MAIN_JOB", "build_definitions", "defs"]


@dg.definitions
def defs() -> dg.Definitions:
    """yecai's definitions for $YECAI_HOME, built when Dagster loads the code location."""
    return build_definitions(Settings.from_env())
