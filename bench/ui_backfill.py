"""Wall time of a single-run backfill launched through a real dagster-webserver, as a data
engineer launches it from the UI (the launchpad's LaunchPartitionBackfill mutation).

    .venv/bin/python -m bench.ui_backfill [--days 30] [--scale 0.25] [--home DIR]

Generates the days into a fresh home, starts `yecai ui` for it, launches the backfill of
every asset for those days, waits for the backfill to complete and prints the wall time,
the run's duration and its steps. Reuses the real-server test's harness.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.generate import GenerateRequest, generate
from pipelines.settings import Settings
from tests.e2e.test_webserver import Server, _free_port

FIRST = date(2024, 4, 1)


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--days", type=int, default=30)
    args.add_argument("--scale", type=float, default=0.25)
    args.add_argument("--home", type=Path)
    options = args.parse_args()
    home = options.home or Path(tempfile.mkdtemp(prefix="yecai-bench-")) / "home"
    shutil.rmtree(home, ignore_errors=True)
    settings = Settings(home=home, start_date=date(2024, 1, 1))
    days = [FIRST + timedelta(days=i) for i in range(options.days)]
    generate(
        settings.landing,
        settings.truth,
        GenerateRequest(start=FIRST, days=options.days, scale=options.scale, seed=42),
    )
    server = Server(home, _free_port())
    try:
        server.wait_until_loaded()
        started = time.monotonic()
        backfill = server.wait_for_backfill(server.launch_backfill(days), timeout=24 * 3600)
        wall = time.monotonic() - started
    finally:
        server.stop()
    print(f"backfill {days[0]}..{days[-1]}: {backfill['status']}, {len(backfill['runs'])} run(s)")
    print(f"wall time from the mutation to the backfill's completion: {wall:.1f} s")
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        run_id = backfill["runs"][0]["runId"]
        stats = instance.get_run_stats(run_id)
        print(f"the run: {stats.end_time - stats.start_time:.1f} s")
        for step in instance.get_run_step_stats(run_id):
            print(f"  {step.step_key:28s} {step.end_time - step.start_time:6.1f} s")
    with duckdb.connect(str(settings.marts_db), read_only=True) as con:
        [(lines,)] = con.execute("select count(*) from fct_sales_margin").fetchall()
    print(f"published fct_sales_margin: {lines:,} lines; home {home}")


if __name__ == "__main__":
    main()
