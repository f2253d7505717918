"""The code location workspace.yaml loads: yecai's definitions for $YECAI_HOME."""

from pipelines.defs import build_definitions
from pipelines.settings import Settings

defs = build_definitions(Settings.from_env())
