"""What the dbt manifest says: relation names, models by schema and the tests on them.

The gates read relation names and the marts' keys, expressions and money columns from
here, so each fact stays written once, in the dbt project.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any


class UnknownRelation(KeyError):
    """A gate names a model, seed or source the dbt project does not have."""


@dataclass(frozen=True)
class Manifest:
    nodes: dict[str, dict[str, Any]]
    sources: dict[str, dict[str, Any]]

    def relation(self, name: str) -> str:
        """The relation name of a model or seed (``"build"."marts"."fct_sales_margin"``)."""
        for kind in ("model", "seed"):
            node = self.nodes.get(f"{kind}.yecai.{name}")
            if node is not None:
                return node["relation_name"]
        raise UnknownRelation(f"the dbt project has no model or seed named {name!r}")

    def source_relation(self, source: str, table: str) -> str:
        node = self.sources.get(f"source.yecai.{source}.{table}")
        if node is None:
            raise UnknownRelation(f"the dbt project has no source {source}.{table}")
        return node["relation_name"]

    def models(self, schema: str) -> list[dict[str, Any]]:
        """The models built into a schema, by name."""
        found = [
            node
            for node in self.nodes.values()
            if node["resource_type"] == "model" and node["schema"] == schema
        ]
        return sorted(found, key=lambda node: node["name"])

    def generic_tests(self, model_unique_id: str) -> list[dict[str, Any]]:
        """The generic data tests attached to a model: each test's ``test_metadata``."""
        return [
            node["test_metadata"]
            for node in self.nodes.values()
            if node["resource_type"] == "test"
            and node.get("test_metadata")
            and node.get("attached_node") == model_unique_id
        ]


@cache
def _load(path: Path, _mtime_ns: int) -> Manifest:
    document = json.loads(path.read_text(encoding="utf-8"))
    return Manifest(nodes=document["nodes"], sources=document["sources"])


def load_manifest(path: Path) -> Manifest:
    """The manifest at ``path``, read once per version of the file."""
    return _load(path, path.stat().st_mtime_ns)
