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


def lock_holder(warehouse: Path) -> str | None:
    """Who holds the writer lock now (run id and process), or None when it is free."""
    path = lock_path(warehouse)
    if not path.exists():
        return None
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            return handle.read().strip() or "another process"
        fcntl.flock(handle, fcntl.LOCK_UN)
        return None


@contextlib.contextmanager
def writer_lock(
    warehouse: Path, holder: str, wait_note: Callable[[str], None], poll_seconds: float = 1.0
) -> Iterator[None]:
    """Hold the writer lock, waiting for the current holder (said once a minute)."""
    warehouse.mkdir(parents=True, exist_ok=True)
    with open(lock_path(warehouse), "a+", encoding="utf-8") as handle:
        waited, last_note = 0.0, None
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if last_note is None or waited - last_note >= 60:
                    handle.seek(0)
                    current = handle.read().strip() or "another process"
                    wait_note(f"waiting for build.duckdb: {current} is writing it")
                    last_note = waited
                time.sleep(poll_seconds)
                waited += poll_seconds
        handle.truncate(0)
        handle.write(f"{holder} (pid {os.getpid()}, since {datetime.now(UTC):%H:%M:%S} UTC)")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)
