"""A window's outcome depends on the data, not on how many attempts it took: a run that
failed (a source missing) and its re-run once the file arrived publish exactly what one
clean run publishes."""

import shutil
from datetime import date

import duckdb
import pytest

from pipelines.generate import GenerateRequest, generate
from pipelines.orchestrate import run_window
from pipelines.settings import Settings

pytestmark = pytest.mark.slow
START, END = date(2024, 3, 1), date(2024, 3, 6)


def published(settings: Settings) -> dict[str, list[tuple]]:
    with duckdb.connect(str(settings.marts_db), read_only=True) as con:
        tables = [t for (t,) in con.execute("show tables").fetchall()]
        return {t: sorted(con.execute(f"select * from {t}").fetchall(), key=repr) for t in tables}


def test_a_failed_run_and_its_rerun_publish_what_a_clean_run_does(tmp_path, dbt_manifest):
    clean = Settings(home=tmp_path / "clean", start_date=START)
    generate(clean.landing, clean.truth, GenerateRequest(start=START, days=6, scale=0.05))
    retried = Settings(home=tmp_path / "retried", start_date=START)
    shutil.copytree(clean.home, retried.home)
    late = retried.landing / "consultations" / "2024-03-04"
    held = tmp_path / "held"
    late.rename(held)
    assert run_window(retried, START, END).exit_code == 1  # a source missing: not published
    held.rename(late)
    assert run_window(retried, START, END).exit_code == 0
    assert run_window(clean, START, END).exit_code == 0
    assert published(retried) == published(clean)
