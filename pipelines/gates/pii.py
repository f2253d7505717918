"""The PII gate: no text column of a mart holds a value shaped like a phone, an e-mail or
an ID number (masked columns included: a mask never leaves 11 digits in a row). A run reads
the rows it changed (:mod:`.scope`): rows it did not change were judged when published."""

from __future__ import annotations

from pipelines.gates.marts import MartSpec
from pipelines.gates.sql import render
from pipelines.gates.suite import GateSuite, unexpected
from pipelines.gates.window import Window
from pipelines.pii import SEPARATORS, SHAPES, TOKEN_SHAPES
from pipelines.transform.manifest import Manifest


def _shape_query(spec: MartSpec, manifest: Manifest, shape: str) -> str:
    """One query over every text column of the mart: the columns holding the shape."""
    columns = [
        render(
            "pii/shape_in_column.sql",
            manifest,
            column=column,
            token_shapes=TOKEN_SHAPES,
            separators=SEPARATORS,
            shape=shape,
        )
        for column in spec.text_columns
    ]
    return "\nunion all\n".join(columns) or render("pii/no_text_columns.sql", manifest)


def pii_suite(spec: MartSpec, manifest: Manifest, window: Window) -> GateSuite:
    expectations = [
        unexpected(_shape_query(spec, manifest, shape), f"no {kind} in any text column")
        for kind, shape in SHAPES.items()
    ]
    return spec.suite("gate_pii", f"pii_{spec.name}", window, *expectations)
