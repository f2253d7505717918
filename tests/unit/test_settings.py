"""Settings shared by the Python code and dbt stay one fact."""

import re
from datetime import date

import pytest

from pipelines.settings import (
    DBT_PROJECT_DIR,
    DEFAULT_START_DATE,
    DUCKDB_MEMORY_LIMIT_DEFAULT,
    DUCKDB_MEMORY_LIMIT_ENV,
    DUCKDB_SHORT_WINDOW_MEMORY_LIMIT,
    HOME_SETTINGS_FILE,
    SHORT_WINDOW_DAYS,
    START_DATE_ENV,
    HomeDamaged,
    Settings,
    duckdb_config,
    record_start_date,
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


def test_the_first_date_is_the_one_given_else_the_homes_else_the_default(tmp_path, monkeypatch):
    monkeypatch.delenv(START_DATE_ENV, raising=False)
    home = tmp_path / "home"
    assert Settings.from_env(home=home).start_date == DEFAULT_START_DATE
    record_start_date(home, date(2026, 11, 21))  # as yecai demo does
    assert Settings.from_env(home=home).start_date == date(2026, 11, 21)
    monkeypatch.setenv(START_DATE_ENV, "2025-01-01")
    assert Settings.from_env(home=home).start_date == date(2025, 1, 1)
    assert Settings.from_env(home=home, start_date="2024-06-01").start_date == date(2024, 6, 1)


def test_a_damaged_home_settings_file_is_named_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.delenv(START_DATE_ENV, raising=False)
    (tmp_path / HOME_SETTINGS_FILE).write_text('{"start_date": "21/11/2026"}')
    with pytest.raises(HomeDamaged, match=r"settings.json .*YYYY-MM-DD.*delete it"):
        Settings.from_env(home=tmp_path)
