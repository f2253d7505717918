"""The gates' SQL: templates in ``sql/``, relation names from the dbt manifest.

A template reads like dbt SQL: ``{{ ref('fct_sales_margin') }}``, ``{{ source('audit',
'ingest_files') }}``, ``{{ batch }}`` for the suite's batch (Great Expectations puts the
batch query there) and ``{{ literal(value) }}`` for a string literal. Great Expectations
formats each query with ``str.format``, so literals have their braces doubled.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from pipelines.transform.manifest import Manifest

SQL_DIR = Path(__file__).with_name("sql")
BATCH = "{batch}"


def literal(value: object) -> str:
    """A SQL string literal, safe inside a query Great Expectations formats."""
    text = str(value).replace("'", "''").replace("{", "{{").replace("}", "}}")
    return f"'{text}'"


_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FileSystemLoader(SQL_DIR),
    undefined=jinja2.StrictUndefined,
    autoescape=False,
    keep_trailing_newline=False,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENVIRONMENT.globals["literal"] = literal


def render(template: str, manifest: Manifest, **values: object) -> str:
    """The SQL of ``sql/<template>`` with the manifest's relation names. The comment lines
    that open a template say what it finds; they are left out of the query (GX wants a
    batch query to start with ``select``)."""
    text = _ENVIRONMENT.get_template(template).render(
        ref=manifest.relation, source=manifest.source_relation, batch=BATCH, **values
    )
    lines = text.strip().splitlines()
    while lines and lines[0].lstrip().startswith("--"):
        lines.pop(0)
    return "\n".join(lines)
