"""`make bench`: what yecai costs at stated scales, side by side with the DuckDB floor and a
pandas baseline, written to BENCHMARKS.md with the machine, the versions and the commands.

    .venv/bin/python -m bench.run [--cases day,month,year,large,month_half,years,identity]
                                    [--output BENCHMARKS.md]

Each case generates its days into a fresh home (`yecai generate`) and runs them as one
`yecai run` (one Dagster run, one dbt invocation): wall time end to end and per phase
(the run's Dagster steps), rows per second, and peak memory (the resident memory of the
run's whole process tree, sampled every 0.2 s, attributed to the phase running then).
Cases marked so then compute the same marts with the DuckDB floor (bench/floor.py) and
fct_margin_daily in pandas (bench/pandas_margin.py), each in its own process, and run the
next three business dates, each alone (nightly partitions; the median of each time).
The nights of all cases run after every backfill, taking turns (each case's first night,
then each one's second...): a nightly ratio compares cases, and this machine's speed drifts
by a third over an hour, so both sides of a ratio are measured across the same minutes.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench.measure import CASES, NIGHTS, run_case, run_night
from bench.report import render
from pipelines.settings import REPO_ROOT


def main() -> None:
    parser = argparse.ArgumentParser(description="yecai benchmarks → BENCHMARKS.md")
    parser.add_argument(
        "--cases",
        default="day,month,year,large,month_half,years,identity",
        help=f"of {', '.join(CASES)}",
    )
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    results = []
    command = "make bench" + (
        f" CASES={args.cases}" if args.cases != parser.get_default("cases") else ""
    )
    with tempfile.TemporaryDirectory(prefix="yecai-bench-") as root:
        for name in args.cases.split(","):
            results.append(run_case(CASES[name], Path(root)))
            print(f"{name}: run {results[-1].run.seconds:.1f} s", flush=True)
            # Written after each step: an hour of measurements survives a later failure.
            args.output.write_text(render(results, command), encoding="utf-8")
        for offset in range(1, NIGHTS + 1):
            for result in results:
                if result.case.nightly:
                    run_night(result, Path(root), offset)
                    args.output.write_text(render(results, command), encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
