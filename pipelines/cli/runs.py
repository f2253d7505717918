"""``yecai generate``, ``yecai run`` and ``yecai demo``."""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import time
from datetime import timedelta

import duckdb

from pipelines.cli.common import program, report, settings_of
from pipelines.settings import (
    DEMO_ENV,
    PII_KEY_ENV,
    START_DATE_ENV,
    Settings,
    duckdb_config,
    record_start_date,
    recorded_start_date,
)

DEMO_SEED = 42


def cmd_generate(args: argparse.Namespace) -> int:
    from pipelines.generate import GenerateRequest, generate

    settings = settings_of(args)
    request = GenerateRequest(
        start=args.start,
        days=args.days,
        scale=args.scale,
        seed=args.seed,
        anomalies=args.anomalies,
        file_defects=args.file_defects,
        late_corrections=args.late_corrections,
        identity_noise=args.identity_noise,
    )
    summary = generate(settings.landing, settings.truth, request)
    rate = summary.sales_lines / max(summary.seconds, 1e-9) * 60 / 1e6
    print(
        f"generated {request.days} day(s) from {request.start} into {settings.landing}: "
        f"{summary.sales_lines:,} sales lines, {summary.consultation_rows:,} consultation rows, "
        f"{summary.inventory_rows:,} inventory rows, {summary.ledger_lines:,} ledger lines "
        f"in {summary.seconds:.1f}s ({rate:.2f} M sales lines/min)"
    )
    print(f"defects injected: {summary.defects}; truth in {settings.truth}")
    if summary.late_changes:
        print(
            f"late data: {summary.late_changes:,} changes to closed months wait in "
            f"{settings.home / 'late'}/<delivery date>/ (deliver one by moving its folders "
            "into landing/, control files last)"
        )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from pipelines.orchestrate import run_window, yesterday
    from pipelines.pii import resolve_key

    if args.demo:
        os.environ[DEMO_ENV] = "1"
    settings = settings_of(args)
    resolve_key(settings.demo)  # refuse early, before any work, when there is no key
    start = args.start or yesterday()
    end = args.end or (args.start or yesterday())
    return report(run_window(settings, start, end, verbose=args.verbose))


def cmd_demo(args: argparse.Namespace) -> int:
    from pipelines.generate import GenerateRequest, generate
    from pipelines.orchestrate import run_window, yesterday
    from pipelines.pii import resolve_key

    os.environ[DEMO_ENV] = "1"
    settings = settings_of(args)
    resolve_key(settings.demo)  # says loudly that the demo key is in use, unless a key is set
    end = yesterday()
    start = end - timedelta(days=args.days - 1)
    if not (getattr(args, "start_date", None) or os.environ.get(START_DATE_ENV)):
        # The home's partitions start with its sample (the UI shows no empty years before).
        recorded = recorded_start_date(settings.home)
        first = min(start, recorded) if recorded else start
        record_start_date(settings.home, first)
        settings = dataclasses.replace(settings, start_date=first)
    print(f"yecai demo: {args.days} days of sample data ({start}..{end}) in {settings.home}")
    summary = generate(
        settings.landing,
        settings.truth,
        GenerateRequest(start=start, days=args.days, scale=args.scale, seed=DEMO_SEED),
    )
    print(f"generated {summary.sales_lines:,} sales lines in {summary.seconds:.1f}s")
    started = time.perf_counter()
    outcome = run_window(settings, start, end, verbose=args.verbose)
    code = report(outcome)
    if code != 0:
        return code
    print(f"ran in {time.perf_counter() - started:.1f}s")
    print(f"published marts: {settings.marts_db}")
    example = "select * from fct_sales_margin limit 5"
    yecai = f"{program()} --home {shlex.quote(str(settings.home))}"
    print(f'query them:      {yecai} sql "{example}"')
    print(f"Dagster UI:      {yecai} ui{'' if os.environ.get(PII_KEY_ENV) else ' --demo'}")
    print(f"daily report:    {settings.reports / 'daily' / f'{end}.html'}")
    print(f"gate results:    {settings.reports / 'gates' / 'index.html'}")
    print(f"dbt docs:        {settings.reports / 'dbt-docs' / 'static_index.html'}")
    _print_demo_summary(settings)
    return 0


def _print_demo_summary(settings: Settings) -> None:
    with duckdb.connect(str(settings.marts_db), read_only=True, config=duckdb_config()) as con:
        print(
            con.sql(
                "select brand_code, count(*) as lines, sum(recognized_revenue) as revenue, "
                "sum(gross_margin) as gross_margin, "
                "round(100 * sum(gross_margin) / nullif(sum(recognized_revenue), 0), 1) "
                "as margin_pct from fct_sales_margin group by brand_code order by brand_code"
            )
        )
