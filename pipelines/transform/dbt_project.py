"""The dbt project: its files, its manifest, dbt run as a command, and its docs.

Dagster's wiring (``pipelines/defs/transform``) builds the dbt assets from the manifest
prepared here; the CLI and the test suite prepare it before definitions load (never at
import time).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from dbt.version import __version__ as dbt_version

from pipelines.settings import DBT_PROJECT_DIR, SEEDS_DIR

DBT_EXECUTABLE = Path(sys.executable).with_name("dbt")
TARGET_DIR = DBT_PROJECT_DIR / "target"
MANIFEST_PATH = TARGET_DIR / "manifest.json"
KEEP_TARGETS = 20  # run artifacts kept per home (each holds a full manifest)
DOCS_STAMP = ".fingerprint"  # beside the published docs: the project they were made from
DOCS_FILES = ("static_index.html", "index.html", "manifest.json", "catalog.json")


class DbtCommandFailed(RuntimeError):
    """dbt exited non-zero; the message ends with the tail of its output."""


def dbt_executable() -> str:
    """dbt from this virtualenv (else from PATH)."""
    return str(DBT_EXECUTABLE) if DBT_EXECUTABLE.exists() else (shutil.which("dbt") or "dbt")


def run_dbt(args: list[str], target_path: Path) -> str:
    """Run one dbt command on the project; returns its output, raises when it fails."""
    command = [
        dbt_executable(),
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target_path),
    ]
    done = subprocess.run(
        command, cwd=DBT_PROJECT_DIR, env=os.environ, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise DbtCommandFailed(
            f"`dbt {' '.join(args)}` exited {done.returncode}:\n{done.stdout[-3000:]}"
        )
    return done.stdout


def project_files() -> list[Path]:
    """Every file the dbt project is made of: what its manifest and docs depend on."""
    return sorted(
        [
            p
            for folder in ("models", "macros", "tests")
            for p in (DBT_PROJECT_DIR / folder).rglob("*")
            if p.is_file()
        ]
        + [p for p in SEEDS_DIR.rglob("*") if p.is_file()]
        + [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    )


def docs_fingerprint() -> str:
    """Changes when the project or dbt changes: the docs (models, columns, lineage, column
    types) depend on nothing else."""
    digest = hashlib.sha256(dbt_version.encode())
    for path in project_files():
        digest.update(str(path.relative_to(DBT_PROJECT_DIR.parent)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def prepare_manifest() -> Path:
    """Parse the project when its manifest is missing or older than its files."""
    newest = max(p.stat().st_mtime for p in project_files())
    if not MANIFEST_PATH.exists() or MANIFEST_PATH.stat().st_mtime < newest:
        run_dbt(["parse", "--quiet"], TARGET_DIR)
    return MANIFEST_PATH


def prune_targets(targets: Path, keep: int = KEEP_TARGETS) -> None:
    """Keep the artifacts of the latest runs only."""
    runs = sorted((p for p in targets.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for old in runs[:-keep]:
        shutil.rmtree(old, ignore_errors=True)


@dataclass(frozen=True)
class DocsPage:
    page: Path
    regenerated: bool


def publish_dbt_docs(published: Path, build_target: Path, scratch_target: Path) -> DocsPage:
    """dbt docs (models, columns, lineage) as one static page under ``published``.

    Regenerated only when the project or dbt changed since the published docs (dbt's ~7 s
    otherwise each run). ``build_target``: the run's dbt build artifacts, whose manifest is
    reused when present (only the catalog is then queried); else ``scratch_target``.
    """
    page = published / "static_index.html"
    fingerprint = docs_fingerprint()
    stamp = published / DOCS_STAMP
    if stamp.exists() and stamp.read_text() == fingerprint:
        return DocsPage(page, regenerated=False)
    reuse = (build_target / "manifest.json").exists()
    target = build_target if reuse else scratch_target
    run_dbt(["docs", "generate", "--static", *(["--no-compile"] if reuse else [])], target)
    published.mkdir(parents=True, exist_ok=True)
    for name in DOCS_FILES:
        shutil.copyfile(target / name, published / name)
    stamp.write_text(fingerprint)
    return DocsPage(page, regenerated=True)
