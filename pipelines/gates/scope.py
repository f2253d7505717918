"""Which rows of a mart a run can have changed: what a nightly gate reads.

A gate judges what the run changed. Which rows that is follows from how dbt builds the
mart, read from the manifest (one place for the fact):

- an incremental model with the ``window_replace`` strategy rewrites the rows whose
  window column lies in the run's window (whole months for ``window_grain: month``, every
  date from the window's first for ``window_grain: onward``),
  unless it names ``replace_keys`` (rows of any date);
- a view over a single model changes where that model changes, if it shows the column
  (a closing mart: also its adjustment rows, which any run may change);
- anything else (a table rebuilt whole, an incremental model replaced by key) may change
  any row, so every row is read.

Rows of earlier dates that a run touches outside its window change only in build-made
keys (a merge re-keys ``customer_key``, a hash: no personal data, no money); they were
judged when they were published, and ``yecai audit`` reads every row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipelines.gates.window import Window
from pipelines.transform.manifest import Manifest

WINDOW_REPLACE = "window_replace"
# Period close: the differences a closing mart pivots into its adjustment rows, and the
# flag of those rows (dbt_project/macros/closed_periods.sql).
DIFFERENCES = "model.yecai.int_finance__period_differences"
ADJUSTMENT_COLUMN = "is_adjustment"


@dataclass(frozen=True)
class ChangedRows:
    """The rows a run of a window rewrites: ``column`` within the window, at the model's
    ``window_grain`` (day, month or onward)."""

    column: str
    grain: str = "day"
    also: str | None = None  # a boolean column whose rows change in every run

    def condition(self, window: Window) -> str | None:
        if window.is_everything:
            return None
        if self.grain == "onward":
            bound = f"{self.column} >= date '{window.start}'"
        else:
            bound = (window.whole_months() if self.grain == "month" else window).sql(self.column)
        return f"({bound} or {self.also})" if self.also else bound


def changed_rows(node: dict[str, Any], manifest: Manifest) -> ChangedRows | None:
    """How a run's changes to the model are bounded, or None: any row may change."""
    config = node["config"]
    if config.get("materialized") == "incremental":
        if config.get("incremental_strategy") != WINDOW_REPLACE or config.get("replace_keys"):
            return None
        return ChangedRows(config["window_column"], config.get("window_grain") or "day")
    if config.get("materialized") == "view":
        upstream = as_built_model(node)
        if upstream is not None:
            bound = changed_rows(manifest.nodes[upstream], manifest)
            if bound is not None and bound.column in node["columns"]:
                # A closing mart's adjustment rows change with any run (period close).
                also = ADJUSTMENT_COLUMN if ADJUSTMENT_COLUMN in node["columns"] else None
                return ChangedRows(bound.column, bound.grain, also)
    return None


def as_built_model(node: dict[str, Any]) -> str | None:
    """The model a view shows (a closing mart's as-built model), if it shows one."""
    upstream = [
        n for n in node["depends_on"]["nodes"] if n.startswith("model.") and n != DIFFERENCES
    ]
    return upstream[0] if len(upstream) == 1 else None
