"""The OS lock that makes one process at a time the writer of build.duckdb.

Plain Python (no Dagster): every yecai process that writes takes it, and a waiting one
can say who holds it. The kernel drops it when its holder dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

LOCK_FILE = ".build.duckdb.writer"


def lock_path(warehouse: Path) -> Path:
    return warehouse / LOCK_FILE


def _try_lock(handle) -> str | None:
    """Take the lock on an open lock file without waiting: None when taken, else who holds
    it (what the holder wrote into the file)."""
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return None
    except BlockingIOError:
        handle.seek(0)
        return handle.read().strip() or "another process"


def lock_holder(warehouse: Path) -> str | None:
    """Who holds the writer lock now (run id and process), or None when it is free."""
    path = lock_path(warehouse)
    if not path.exists():
        return None
    with open(path, "a+", encoding="utf-8") as handle:
        holder = _try_lock(handle)
        if holder is None:
            fcntl.flock(handle, fcntl.LOCK_UN)
        return holder


# Lock files this process holds: taking the lock again inside is a no-op (`yecai run` takes
# it before the run, so it can say on the terminal that it waits; the run's steps then ask
# for it again).
_HELD: set[Path] = set()


@contextlib.contextmanager
def writer_lock(
    warehouse: Path, holder: str, wait_note: Callable[[str], None], poll_seconds: float = 1.0
) -> Iterator[None]:
    """Hold the writer lock, waiting for the current holder (said once a minute)."""
    warehouse.mkdir(parents=True, exist_ok=True)
    path = lock_path(warehouse).resolve()
    if path in _HELD:
        yield
        return
    with open(path, "a+", encoding="utf-8") as handle:
        waited, last_note = 0.0, None
        while (current := _try_lock(handle)) is not None:
            if last_note is None or waited - last_note >= 60:
                wait_note(f"waiting for build.duckdb: {current} is writing it")
                last_note = waited
            time.sleep(poll_seconds)
            waited += poll_seconds
        with _holding(handle, path, holder):
            yield


@contextlib.contextmanager
def lock_if_free(warehouse: Path, holder: str) -> Iterator[str | None]:
    """Hold the writer lock only if nobody does: yields None while holding it, else who
    holds it. For a short look at build.duckdb that would rather come back than wait (an
    open reader would block the writer)."""
    warehouse.mkdir(parents=True, exist_ok=True)
    path = lock_path(warehouse).resolve()
    if path in _HELD:
        yield None
        return
    with open(path, "a+", encoding="utf-8") as handle:
        if (current := _try_lock(handle)) is not None:
            yield current
            return
        with _holding(handle, path, holder):
            yield None


@contextlib.contextmanager
def _holding(handle, path: Path, holder: str) -> Iterator[None]:
    """With the lock taken on ``handle``: say who holds it, and release it at the end."""
    handle.truncate(0)
    handle.write(f"{holder} (pid {os.getpid()}, since {datetime.now(UTC):%H:%M:%S} UTC)")
    handle.flush()
    _HELD.add(path)
    try:
        yield
    finally:
        _HELD.discard(path)
        handle.truncate(0)
        fcntl.flock(handle, fcntl.LOCK_UN)


# ------------------------------------------------------------------ run liveness ----------
# Dagster marks a run finished from inside the run; a run whose process was killed stays
# "started" for ever, and would hold the run queue (max_concurrent_runs: 1) for ever. A run
# therefore holds a lock of its own while it lives; the kernel drops it when the process
# dies, which is how ``dead_runs`` tells a dead run from a slow one.
RUNS_FOLDER = ".runs"


def _alive_path(warehouse: Path, run_id: str) -> Path:
    return warehouse / RUNS_FOLDER / f"{run_id}.alive"


@contextlib.contextmanager
def run_alive(warehouse: Path, run_id: str) -> Iterator[None]:
    path = _alive_path(warehouse, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.truncate(0)
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            path.unlink(missing_ok=True)
            fcntl.flock(handle, fcntl.LOCK_UN)


def dead_runs(warehouse: Path, run_ids: list[str]) -> list[str]:
    """The runs among these whose process took its liveness lock and has died since."""
    dead = []
    for run_id in run_ids:
        path = _alive_path(warehouse, run_id)
        try:
            handle = open(path, encoding="utf-8")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            continue  # not started yet, or finished
        with handle:
            if _try_lock(handle) is None:
                dead.append(run_id)
                path.unlink(missing_ok=True)
                fcntl.flock(handle, fcntl.LOCK_UN)
    return dead
