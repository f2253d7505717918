"""The PII gate: no text column of a mart holds a value shaped like a phone, an e-mail or
an ID number (masked columns included: a mask never leaves 11 digits in a row)."""

from __future__ import annotations

from pipelines.gates.marts import MartSpec
from pipelines.gates.sql import render
from pipelines.gates.suite import GateSuite, mart_suite, unexpected
from pipelines.transform.manifest import Manifest

# Tokens and customer keys are hashes: their hex digits can form phone-shaped runs.
TOKEN_SHAPES = "[0-9a-f]{64}|C[0-9A-F]{16}"
# Matched after tokens and separators (spaces, dashes) are taken out.
SEPARATORS = r"[\s-]"
PII_SHAPES = {
    "phone": r"(^|[^0-9])(0086|86)?1[3-9][0-9]{9}([^0-9]|$)",
    "e-mail": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z.]{2,}",
    "ID number": r"(^|[^0-9])[0-9]{17}[0-9Xx]([^0-9]|$)",
}


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


def pii_suite(spec: MartSpec, manifest: Manifest) -> GateSuite:
    expectations = [
        unexpected(_shape_query(spec, manifest, shape), f"no {kind} in any text column")
        for kind, shape in PII_SHAPES.items()
    ]
    return mart_suite("gate_pii", spec.name, spec.relation, f"pii_{spec.name}", *expectations)
