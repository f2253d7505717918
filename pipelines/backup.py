"""Snapshots of the warehouse: ``yecai backup`` and ``yecai restore``.

A snapshot holds what landing alone cannot give back: ``build.duckdb`` (the audit of every
file loaded, the gate history, customer keys as they were assigned and merged), the
published ``marts.duckdb``, the lake they were built from (so the gates can be run on the
restored home), and the reviewers' identity decisions (``identity/decisions.csv``: people's
work, found nowhere else). Landing belongs to the source systems and is not copied; nor is
Dagster's run history. Everything is copied (a snapshot on another disk survives that
disk); every file's sha256 is in the snapshot's manifest.

Both commands hold the writer lock: no run writes while a snapshot is taken or restored.
Restoring verifies every file against the snapshot's manifest first, and moves what it
replaces to ``backups/replaced-<time>/`` rather than deleting it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.identity_decisions import DECISIONS_FILE
from pipelines.settings import Settings, duckdb_config
from pipelines.warehouse_lock import writer_lock

MANIFEST = "MANIFEST.json"
WAREHOUSE_FILES = ("build.duckdb", "marts.duckdb")
LAKE_SCRATCH = (".staging", ".trash")  # a run's work in progress, not the lake


class BackupError(Exception):
    pass


def _stamp() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}"


def _sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _copy(source: Path, target: Path) -> None:
    # A copy, never a hard link: a link would share any later damage to the file.
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)


def _lake_files(lake: Path) -> list[Path]:
    return sorted(
        p
        for p in lake.rglob("*")
        if p.is_file() and not set(p.relative_to(lake).parts) & set(LAKE_SCRATCH)
    )


def _note(message: str) -> None:
    print(f"yecai: {message}", file=sys.stderr)


def backup(settings: Settings, target: Path | None = None) -> Path:
    """Snapshot build.duckdb, marts.duckdb and the lake into ``target`` (default
    ``backups/<UTC time>/`` of the home); returns the snapshot's folder."""
    if not settings.build_db.exists():
        raise BackupError(f"nothing to back up: {settings.build_db} does not exist yet")
    target = target or settings.home / "backups" / _stamp()
    if target.exists():
        raise BackupError(f"{target} already exists: choose a new folder for the snapshot")
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    with writer_lock(settings.warehouse, "yecai backup", _note):
        # Fold the write-ahead log into the file, so the file alone is the whole database.
        with duckdb.connect(str(settings.build_db), config=duckdb_config()) as con:
            con.execute("checkpoint")
        for name in WAREHOUSE_FILES:
            if (settings.warehouse / name).exists():
                _copy(settings.warehouse / name, partial / "warehouse" / name)
        for path in _lake_files(settings.lake):
            _copy(path, partial / "lake" / path.relative_to(settings.lake))
        if (settings.home / DECISIONS_FILE).exists():
            _copy(settings.home / DECISIONS_FILE, partial / DECISIONS_FILE)
        files = {
            str(p.relative_to(partial)): {"sha256": _sha256(p), "bytes": p.stat().st_size}
            for p in sorted(partial.rglob("*"))
            if p.is_file()
        }
        manifest = {"created_at": datetime.now(UTC).isoformat(), "files": files}
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        partial.rename(target)
    return target


SNAPSHOT_FOLDERS = ("warehouse", "lake", DECISIONS_FILE.parts[0])


def _check_entry(snapshot: Path, name: str) -> None:
    """A manifest entry names a file under warehouse/ or lake/ of the snapshot, and nothing
    else: a restore writes only inside the home."""
    parts = Path(name).parts
    if (
        not parts
        or Path(name).is_absolute()
        or ".." in parts
        or parts[0] not in SNAPSHOT_FOLDERS
        or (parts[0] == "warehouse" and (len(parts) != 2 or parts[1] not in WAREHOUSE_FILES))
        or (parts[0] == DECISIONS_FILE.parts[0] and Path(name) != DECISIONS_FILE)
    ):
        raise BackupError(
            f"{snapshot / MANIFEST} names {name!r}, which is not a file of a yecai snapshot "
            f"(warehouse/build.duckdb, warehouse/marts.duckdb, lake/… or {DECISIONS_FILE}): "
            "refusing to restore it"
        )
    if (snapshot / name).is_symlink():
        raise BackupError(f"{snapshot / name} is a symbolic link: a snapshot holds files only")


def verify(snapshot: Path) -> dict[str, dict]:
    """The snapshot's files, each checked against its manifest; raises naming the first
    file that is missing or changed."""
    manifest_path = snapshot / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(
            f"{snapshot} is not a yecai snapshot (no {MANIFEST}); give the folder "
            "`yecai backup` printed"
        )
    try:
        files = json.loads(manifest_path.read_text(encoding="utf-8"))["files"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(
            f"{manifest_path} is not a yecai manifest; restore another snapshot"
        ) from exc
    for name, expected in files.items():
        _check_entry(snapshot, name)
        path = snapshot / name
        if not path.is_file():
            raise BackupError(f"{path} is missing from the snapshot: it cannot be restored")
        if path.stat().st_size != expected["bytes"] or _sha256(path) != expected["sha256"]:
            raise BackupError(
                f"{path} changed since the backup (sha256 differs): the snapshot cannot be "
                "trusted; restore an older one"
            )
    return files


def restore(settings: Settings, snapshot: Path) -> Path:
    """Put a verified snapshot in place of the home's warehouse, lake and identity decisions
    (the warehouse applied those); returns the folder holding what it replaced, where
    decisions reviewers made since the snapshot can be taken from."""
    files = verify(snapshot)
    aside = settings.home / "backups" / f"replaced-{_stamp()}"
    with writer_lock(settings.warehouse, "yecai restore", _note):
        incoming = settings.home / ".restoring"
        shutil.rmtree(incoming, ignore_errors=True)
        for name in files:
            _copy(snapshot / name, incoming / name)
        aside.mkdir(parents=True)
        if settings.lake.exists():
            settings.lake.rename(aside / "lake")
        (incoming / "lake").mkdir(exist_ok=True)
        (incoming / "lake").rename(settings.lake)
        (aside / "warehouse").mkdir()
        for name in (*WAREHOUSE_FILES, *(f"{n}.wal" for n in WAREHOUSE_FILES)):
            current = settings.warehouse / name
            if current.exists():
                current.rename(aside / "warehouse" / name)
            if (incoming / "warehouse" / name).exists():
                (incoming / "warehouse" / name).rename(current)
        decisions = settings.home / DECISIONS_FILE
        if decisions.exists():
            (aside / DECISIONS_FILE).parent.mkdir()
            decisions.rename(aside / DECISIONS_FILE)
        if (incoming / DECISIONS_FILE).exists():
            decisions.parent.mkdir(exist_ok=True)
            (incoming / DECISIONS_FILE).rename(decisions)
        shutil.rmtree(incoming)
    return aside


def check_gates(settings: Settings):
    """The audit (every gate suite over everything) on the restored warehouse, recorded in
    its gate history: an :class:`~pipelines.gates.audit.AuditOutcome`."""
    from pipelines.gates.audit import audit_home, audit_run_id
    from pipelines.gates.window import Window

    return audit_home(settings, Window.everything(), audit_run_id("restore-check"), _note)
