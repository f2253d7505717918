"""Settings shared by the Python code and dbt stay one fact."""

import re

from pipelines.settings import (
    DBT_PROJECT_DIR,
    DUCKDB_MEMORY_LIMIT_DEFAULT,
    DUCKDB_MEMORY_LIMIT_ENV,
    duckdb_config,
)


def test_dbt_profile_uses_the_same_duckdb_memory_limit(monkeypatch):
    profile = (DBT_PROJECT_DIR / "profiles.yml").read_text()
    found = re.search(r"memory_limit: \"\{\{ env_var\('(\w+)', '([^']+)'\) \}\}\"", profile)
    assert found, "profiles.yml sets memory_limit from the environment"
    assert found.groups() == (DUCKDB_MEMORY_LIMIT_ENV, DUCKDB_MEMORY_LIMIT_DEFAULT)
    monkeypatch.delenv(DUCKDB_MEMORY_LIMIT_ENV, raising=False)
    assert duckdb_config() == {"memory_limit": DUCKDB_MEMORY_LIMIT_DEFAULT}
    monkeypatch.setenv(DUCKDB_MEMORY_LIMIT_ENV, "6GB")
    assert duckdb_config() == {"memory_limit": "6GB"}
