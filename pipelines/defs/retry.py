"""Retries for what is worth retrying: build.duckdb held by a process outside yecai (a
data engineer's SQL client). Anything else fails at once."""

from __future__ import annotations

import contextlib

import dagster as dg

TRANSIENT_MARKERS = ("could not set lock on file", "conflicting lock is held")
RETRIES = 4
FIRST_WAIT_SECONDS = 5


def is_transient(error: BaseException | str) -> bool:
    """A lock held by another process: worth waiting for. Anything else is not."""
    text = str(error).lower()
    return any(marker in text for marker in TRANSIENT_MARKERS)


@contextlib.contextmanager
def retry_if_transient(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext):
    """Turn a transient error into a Dagster retry after 5, 10, 20, 40 s; let the rest fail."""
    try:
        yield
    except dg.RetryRequested:
        raise
    except Exception as error:
        if not is_transient(error):
            raise
        wait = FIRST_WAIT_SECONDS * 2**context.op_execution_context.retry_number
        context.log.warning(f"transient: {error}; retrying in {wait} s")
        raise dg.RetryRequested(max_retries=RETRIES, seconds_to_wait=wait) from error
