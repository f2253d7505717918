"""What a gate suite is: expectations over one batch query, for one gate on one asset."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import great_expectations as gx


@dataclass(frozen=True)
class Expectation:
    """One GX expectation and what a person reads when it fails. A warn-only expectation
    fails as a warning even in an error gate (reconciliation's small breaks)."""

    gx_expectation: Any
    label: str
    warn_only: bool = False


@dataclass(frozen=True)
class Suite:
    name: str
    query: str  # the batch: what the expectations read
    expectations: tuple[Expectation, ...]


@dataclass(frozen=True)
class GateSuite:
    """A suite, the gate (check) it decides, and the asset that gate belongs to."""

    gate: str
    asset: tuple[str, str]
    suite: Suite


def unexpected(query: str, label: str, *, warn_only: bool = False) -> Expectation:
    """Every row the query finds is a failure; the query reads the batch as {batch}."""
    return Expectation(
        gx.expectations.UnexpectedRowsExpectation(unexpected_rows_query=query, description=label),
        label,
        warn_only,
    )


def mart_suite(
    gate: str,
    mart: str,
    relation: str,
    suite_name: str,
    *expectations: Expectation,
    where: str | None = None,
) -> GateSuite:
    """A suite whose batch is one mart (its queries read it as {batch}), or the rows of it
    ``where`` selects (the rows a run changed: :mod:`pipelines.gates.scope`)."""
    batch = f"select * from {relation}" + (f" where {where}" if where else "")
    return GateSuite(gate, ("marts", mart), Suite(suite_name, batch, expectations))
