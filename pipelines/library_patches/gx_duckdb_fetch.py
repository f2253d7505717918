"""Great Expectations on DuckDB: fetch query results inside the connection.

GX 1.x returns empty results from DuckDB through SQLAlchemy (great_expectations issue
#11579): ``SqlAlchemyExecutionEngine.execute_query`` returns the cursor after its
connection closed, and duckdb-engine's cursor then has no rows. :func:`install` makes it
fetch the rows while the connection is open. Without it (an untested GX version) every
gate's metrics may come back empty, so the gates fail and nothing is published: safe, not
silent. ``tests/unit/test_library_patches.py`` fails when upstream fixes the bug.
"""

from __future__ import annotations

from great_expectations.execution_engine import sqlalchemy_execution_engine as _engine

from pipelines.library_patches import is_tested

TESTED_VERSIONS = ("1.24.1",)
_ORIGINAL_EXECUTE_QUERY = _engine.SqlAlchemyExecutionEngine.execute_query


def _execute_query_fetched(self, query):
    with self.get_connection() as connection:
        result = self._execute_query_with_recovery(connection, query)
        return result.freeze()()  # rows fetched while the connection is open


def install() -> bool:
    """Patch GX when its version was tested; returns whether the patch is on."""
    if not is_tested(
        "great-expectations",
        TESTED_VERSIONS,
        "yecai's fix for GX #11579 on DuckDB",
        "If upstream has not fixed the bug, every gate reads empty results and fails, so "
        "nothing is published until the fix is tested with this version.",
    ):
        uninstall()
        return False
    _engine.SqlAlchemyExecutionEngine.execute_query = _execute_query_fetched
    return True


def uninstall() -> None:
    """GX as shipped (for the test that shows the upstream bug is still there)."""
    _engine.SqlAlchemyExecutionEngine.execute_query = _ORIGINAL_EXECUTE_QUERY
