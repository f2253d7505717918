"""Settings shared by the Python code and dbt stay one fact."""

import re

from pipelines.settings import (
    DBT_PROJECT_DIR,
    DUCKDB_MEMORY_LIMIT_DEFAULT,
    DUCKDB_MEMORY_LIMIT_ENV,
    DUCKDB_SHORT_WINDOW_MEMORY_LIMIT,
    SHORT_WINDOW_DAYS,
    duckdb_config,
)


def test_dbt_profile_uses_the_same_duckdb_memory_limit(monkeypatch):
    profile = (DBT_PROJECT_DIR / "profiles.yml").read_text()
    found = re.search(
        r"memory_limit: \"\{\{ env_var\('(\w+)', var\('duckdb_memory_limit', '([^']+)'\)\) \}\}\"",
        profile,
    )
    assert found, "profiles.yml sets memory_limit from the environment, else the run's var"
    assert found.groups() == (DUCKDB_MEMORY_LIMIT_ENV, DUCKDB_MEMORY_LIMIT_DEFAULT)
    monkeypatch.delenv(DUCKDB_MEMORY_LIMIT_ENV, raising=False)
    assert duckdb_config() == {"memory_limit": DUCKDB_MEMORY_LIMIT_DEFAULT}
    monkeypatch.setenv(DUCKDB_MEMORY_LIMIT_ENV, "6GB")
    assert duckdb_config() == {"memory_limit": "6GB"}
    assert duckdb_config(window_days=1) == {"memory_limit": "6GB"}


def test_a_short_window_gets_the_smaller_memory_limit(monkeypatch):
    monkeypatch.delenv(DUCKDB_MEMORY_LIMIT_ENV, raising=False)
    short = {"memory_limit": DUCKDB_SHORT_WINDOW_MEMORY_LIMIT}
    assert duckdb_config(window_days=1) == short
    assert duckdb_config(window_days=SHORT_WINDOW_DAYS) == short
    assert duckdb_config(window_days=SHORT_WINDOW_DAYS + 1) == {
        "memory_limit": DUCKDB_MEMORY_LIMIT_DEFAULT
    }
