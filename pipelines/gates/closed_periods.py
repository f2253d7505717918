"""The closed_periods gate (error): each closed month's figures still match the checksum
taken when it was closed (:mod:`pipelines.periods`), per mart that has a month.

A run reads the closed months it could have changed: the months of the rows its dbt build
rewrites (:mod:`.scope`); every closed month for a mart rebuilt whole, and in ``yecai
audit``. A change to a closed month fails the gate, so it is never published."""

from __future__ import annotations

from pipelines.gates.marts import MartSpec
from pipelines.gates.sql import literal, render
from pipelines.gates.suite import GateSuite, Suite, unexpected
from pipelines.gates.window import Window
from pipelines.periods import current_closes_sql, figures_sql
from pipelines.transform.manifest import Manifest

GATE = "gate_closed_periods"


def _months_in_scope(spec: MartSpec, window: Window) -> str:
    """A condition on ``closes.period``: the closed months a run of ``window`` may touch."""
    if window.is_everything or spec.changed is None:
        return "true"
    first = literal(f"{window.start:%Y-%m}")
    if spec.changed.grain == "onward":
        return f"closes.period >= {first}"
    return f"closes.period between {first} and {literal(f'{window.end:%Y-%m}')}"


def closed_periods_suite(spec: MartSpec, manifest: Manifest, window: Window) -> GateSuite:
    query = render(
        "closed_periods/checksum_matches.sql",
        manifest,
        current_closes=current_closes_sql(manifest.source_relation("audit", "period_events")),
        scope=_months_in_scope(spec, window),
        figures=figures_sql(spec, spec.relation, "recorded.period"),
    )
    label = "every closed month's figures match the checksum of its close"
    # The batch is the checksums recorded for this mart: what the gate holds the mart to.
    batch = (
        f"select * from {manifest.source_relation('audit', 'period_checksums')} "
        f"where mart = {literal(spec.name)}"
    )
    return GateSuite(
        GATE,
        ("marts", spec.name),
        Suite(f"closed_periods_{spec.name}", batch, (unexpected(query, label),)),
    )
