"""The one place yecai relies on libraries' private APIs.

Each module here works around something a library does not offer publicly, names the
versions it was tested with, and falls back to the library's own behaviour (with a warning
that says what that costs) under any other version. ``tests/unit/test_library_patches.py``
compares each with the library's own behaviour, so an upgrade that changes what a patch
relies on fails a test instead of a night's run.

- :mod:`.gx_duckdb_fetch`: Great Expectations' SQL results fetched inside the connection
  (GX issue #11579: on DuckDB every metric comes back empty otherwise);
- :mod:`.dagster_event_log`: Dagster's SQLite event log writing a batch of asset events in
  one transaction (a year's single-run backfill spends minutes on bookkeeping otherwise);
- :mod:`.dagster_run_tags`: the names of the run tags that carry a run's partitions.
"""

from __future__ import annotations

import warnings
from importlib.metadata import version


class UntestedVersionWarning(UserWarning):
    """A library version a patch was not tested with: the patch is off."""


def is_tested(distribution: str, tested: tuple[str, ...], patch: str, cost: str) -> bool:
    """Whether the installed ``distribution`` is one ``patch`` was tested with; warns (once
    per call site) with what running without the patch costs when it is not."""
    installed = version(distribution)
    if installed in tested:
        return True
    warnings.warn(
        f"{patch} is off: it was tested with {distribution} {', '.join(tested)}, not "
        f"{installed}. {cost}",
        UntestedVersionWarning,
        stacklevel=3,
    )
    return False
