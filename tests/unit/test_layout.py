"""The package reads as the data flow: engines that know nothing of Dagster, Dagster wiring
in pipelines/defs that only calls them, and no import running back up the layers."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "pipelines"
# Engines: ingest → lake → transform → gates → publish, the period close, reviewers'
# identity decisions, the generator,
# and what they share.
ENGINES = (
    "ingest",
    "transform",
    "gates",
    "publish",
    "periods",
    "identity_decisions",
    "generate",
    "contracts",
    "pii",
    "settings",
    "backup",
    "durable",
    "crash_points",
    "warehouse_lock",
)
DAGSTER = ("dagster", "dagster_dbt", "dagster_graphql", "dagster_webserver")
# Each layer may import the ones before it, never one after it.
LAYERS = (
    (*ENGINES, "library_patches"),
    ("runs",),
    ("defs",),
    ("definitions",),
    ("orchestrate",),
    ("cli",),
)


def modules() -> list[tuple[str, Path]]:
    return sorted(
        (".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts), p)
        for p in PACKAGE.rglob("*.py")
    )


def imported(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def part(module: str) -> str:
    """The top-level part of pipelines a module belongs to (``pipelines.gates.raw`` → gates)."""
    return module.split(".")[1] if module.count(".") else module


def layer(module: str) -> int:
    return next(i for i, members in enumerate(LAYERS) if part(module) in members)


def test_only_the_code_location_imports_the_wiring():
    offenders = [
        (module, name)
        for module, path in modules()
        if part(module) not in ("defs", "definitions")
        for name in imported(path)
        if name == "pipelines.defs" or name.startswith("pipelines.defs.")
    ]
    assert offenders == []


@pytest.mark.parametrize("engine", ENGINES)
def test_engines_do_not_import_dagster(engine):
    offenders = [
        (module, name)
        for module, path in modules()
        if part(module) == engine
        for name in imported(path)
        if name.split(".")[0] in DAGSTER
    ]
    assert offenders == []


def test_no_import_runs_back_up_the_layers():
    offenders = [
        (module, name)
        for module, path in modules()
        if module != "pipelines.__init__" and module != "pipelines"
        for name in imported(path)
        if name.startswith("pipelines.") and layer(name) > layer(module)
    ]
    assert offenders == []


def test_every_part_of_the_package_has_a_layer():
    assert {part(m) for m, _ in modules()} - {"__init__"} <= {p for ps in LAYERS for p in ps}
