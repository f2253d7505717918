"""Where everything lives, and the few settings users can change — one place for each.

Everything a run touches sits under one home directory: ``--home DIR``, else ``$YECAI_HOME``,
else ``./.yecai``. dbt's profiles.yml reads the same ``YECAI_HOME`` variable, so Dagster,
dbt and the CLI always agree on the files.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
SEEDS_DIR = REPO_ROOT / "seeds"
CONTRACTS_DIR = REPO_ROOT / "data_contracts"

SOURCES: tuple[str, ...] = ("sales", "inventory", "consultations", "ledger")
BUSINESS_TIMEZONE = "Asia/Shanghai"
# Real extracts are never clean: `yecai generate` writes dirty identifiers at this rate
# unless told otherwise (--identity-noise 0 for clean ones).
DEFAULT_IDENTITY_NOISE = 0.02
DEFAULT_HOME = Path(".yecai")
DEFAULT_START_DATE = date(2024, 1, 1)

# In the home: what the home itself remembers. Its first business date, written by `yecai
# demo` (whose partitions start where its sample does); a setting given wins over it.
HOME_SETTINGS_FILE = "settings.json"

HOME_ENV = "YECAI_HOME"
START_DATE_ENV = "YECAI_START_DATE"
PII_KEY_ENV = "YECAI_PII_KEY"
DEMO_ENV = "YECAI_DEMO"
# Memory DuckDB may use in each of yecai's connections (dbt's included, via profiles.yml):
# beyond it DuckDB spills to disk, so a run stays within a known footprint however much
# history it covers. profiles.yml repeats the default (a test keeps the two equal).
DUCKDB_MEMORY_LIMIT_ENV = "YECAI_DUCKDB_MEMORY_LIMIT"
DUCKDB_MEMORY_LIMIT_DEFAULT = "2.5GB"
# DuckDB keeps the blocks it reads cached up to its limit, so with a large limit a nightly
# run's memory grows with the history it looks things up in. A run of a few days needs
# little: it gets a smaller limit (measured no slower after 3 years: re-read blocks come
# from the operating system's cache). The environment variable, when set, wins.
DUCKDB_SHORT_WINDOW_MEMORY_LIMIT = "1GB"
SHORT_WINDOW_DAYS = 31


class SettingsError(ValueError):
    """A setting has a value yecai cannot use; the message says which and how to fix it."""


class HomeDamaged(SettingsError):
    """Something under the home cannot be used as it is; the message says what and how."""


@dataclass(frozen=True)
class Settings:
    home: Path
    start_date: date = DEFAULT_START_DATE
    demo: bool = False

    @classmethod
    def from_env(cls, home: str | Path | None = None, start_date: str | None = None) -> Settings:
        home_path = Path(home or os.environ.get(HOME_ENV) or DEFAULT_HOME).expanduser().resolve()
        raw_start = start_date or os.environ.get(START_DATE_ENV)
        try:
            first_date = date.fromisoformat(raw_start) if raw_start else None
        except ValueError as exc:
            raise SettingsError(
                f"start date {raw_start!r} is not a date: give --start-date or "
                f"${START_DATE_ENV} as YYYY-MM-DD"
            ) from exc
        return cls(
            home=home_path,
            start_date=first_date or recorded_start_date(home_path) or DEFAULT_START_DATE,
            demo=os.environ.get(DEMO_ENV, "") not in ("", "0", "false"),
        )

    def export_env(self) -> None:
        """Make child processes (dbt, the Dagster code server) see this home and start date."""
        os.environ[HOME_ENV] = str(self.home)
        os.environ[START_DATE_ENV] = self.start_date.isoformat()
        os.environ["DBT_LOG_PATH"] = str(self.logs / "dbt")
        if self.demo:
            os.environ[DEMO_ENV] = "1"

    @property
    def landing(self) -> Path:
        return self.home / "landing"

    @property
    def truth(self) -> Path:
        return self.home / "truth"

    @property
    def lake(self) -> Path:
        return self.home / "lake"

    @property
    def raw_lake(self) -> Path:
        return self.lake / "raw"

    @property
    def quarantine_lake(self) -> Path:
        return self.lake / "quarantine"

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse"

    @property
    def build_db(self) -> Path:
        return self.warehouse / "build.duckdb"

    @property
    def marts_db(self) -> Path:
        return self.warehouse / "marts.duckdb"

    @property
    def reports(self) -> Path:
        return self.home / "reports"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def dbt_target(self) -> Path:
        """dbt's artifacts of each run (manifest, run_results), kept with the home."""
        return self.home / "dbt" / "target"


def duckdb_memory_limit(window_days: int | None = None) -> str:
    """DuckDB's memory limit for work on a window of ``window_days`` (None: any)."""
    if os.environ.get(DUCKDB_MEMORY_LIMIT_ENV):
        return os.environ[DUCKDB_MEMORY_LIMIT_ENV]
    if window_days is not None and window_days <= SHORT_WINDOW_DAYS:
        return DUCKDB_SHORT_WINDOW_MEMORY_LIMIT
    return DUCKDB_MEMORY_LIMIT_DEFAULT


def duckdb_config(window_days: int | None = None) -> dict[str, str]:
    """Settings for every DuckDB connection yecai opens (``window_days``: the run's)."""
    return {"memory_limit": duckdb_memory_limit(window_days)}


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Whether a run has created this table yet (a warehouse from before it has not)."""
    return bool(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def sql_literal(value: object) -> str:
    """A SQL string literal of a value (a path may hold a quote: /home/o'brien/...)."""
    return "'" + str(value).replace("'", "''") + "'"


def recorded_start_date(home: Path) -> date | None:
    """The first business date the home recorded (``yecai demo``), if any."""
    path = home / HOME_SETTINGS_FILE
    if not path.exists():
        return None
    try:
        return date.fromisoformat(json.loads(path.read_text(encoding="utf-8"))["start_date"])
    except (ValueError, KeyError, TypeError) as exc:
        raise HomeDamaged(
            f"{path} is not what yecai writes ({exc}): it should read "
            '{"start_date": "YYYY-MM-DD"}; fix it, or delete it to start at '
            f"{DEFAULT_START_DATE}"
        ) from exc


def record_start_date(home: Path, first: date) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / HOME_SETTINGS_FILE).write_text(
        json.dumps({"start_date": first.isoformat()}) + "\n", encoding="utf-8"
    )
