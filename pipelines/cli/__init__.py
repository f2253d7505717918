"""The ``yecai`` command: generate, run, demo, sql, metrics, audit, report, close-period,
reopen-period, periods, ui, backup, restore."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from importlib.metadata import version

from pipelines.cli.common import EXIT_USAGE, describe_os_error, parse_date
from pipelines.settings import BUSINESS_TIMEZONE, DEFAULT_IDENTITY_NOISE, SettingsError

# `yecai demo` defaults: two weeks of a small sample.
DEMO_DAYS = 14
DEMO_SCALE = 0.05


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="yecai",
        description="业财一体化: ingest, build, gate and publish business and finance marts.",
    )
    root.add_argument("--version", action="version", version=f"yecai {version('yecai')}")
    # The home and first date go before or after the command: each command takes them too,
    # without a default of its own, so one given before the command is kept.
    everywhere = argparse.ArgumentParser(add_help=False)
    for parser_, default in ((root, None), (everywhere, argparse.SUPPRESS)):
        parser_.add_argument(
            "--home",
            default=default,
            help="home directory (default $YECAI_HOME, else ./.yecai)",
        )
        parser_.add_argument(
            "--start-date",
            default=default,
            help="first business date of the partitions "
            "(default $YECAI_START_DATE, else 2024-01-01)",
        )
    subparsers = root.add_subparsers(dest="command", required=True)

    def command(name: str, **kwargs) -> argparse.ArgumentParser:
        return subparsers.add_parser(name, parents=[everywhere], **kwargs)

    generate = command("generate", help="write realistic sample extracts to landing/")
    generate.add_argument("--start", type=parse_date, required=True, help="first business date")
    generate.add_argument("--days", type=int, required=True, help="number of days")
    generate.add_argument("--scale", type=float, default=1.0, help="1.0 ≈ 10,000 sales lines/day")
    generate.add_argument("--seed", type=int, default=42)
    generate.add_argument(
        "--anomalies", type=float, default=0.003, help="share of records with a defect"
    )
    generate.add_argument(
        "--file-defects",
        action="store_true",
        help="also deliver a GBK file, a truncated file, a renamed column and a duplicate file",
    )
    generate.add_argument(
        "--late-corrections",
        type=float,
        default=0.0,
        metavar="RATE",
        help="after each month's end, void this share of its sale lines and post a late "
        "journal into it: files wait in late/<delivery date>/ (truth: late_corrections)",
    )
    generate.add_argument(
        "--identity-noise",
        type=float,
        default=DEFAULT_IDENTITY_NOISE,
        metavar="RATE",
        help="dirty identifiers at this rate: typos in phones, ID numbers, names and e-mails, "
        "changed phones, family members sharing a phone (truth: identity_noise, "
        f"phone_changes, shared_phones; default {DEFAULT_IDENTITY_NOISE}, 0 for clean)",
    )
    generate.set_defaults(handler="runs:cmd_generate")

    run = command("run", help="ingest, build, gate and publish business dates")
    run.add_argument("--start", type=parse_date, help="first business date (default: yesterday)")
    run.add_argument("--end", type=parse_date, help="last business date (default: --start)")
    run.add_argument(
        "--demo", action="store_true", help="allow running without $YECAI_PII_KEY (sample data)"
    )
    run.add_argument("-v", "--verbose", action="store_true", help="show Dagster's run log")
    run.set_defaults(handler="runs:cmd_run")

    demo = command("demo", help="generate a small sample, run it, show the results")
    demo.add_argument("--days", type=int, default=DEMO_DAYS)
    demo.add_argument("--scale", type=float, default=DEMO_SCALE)
    demo.add_argument("-v", "--verbose", action="store_true")
    demo.set_defaults(handler="runs:cmd_demo")

    sql = command("sql", help="query the published marts (read-only)")
    sql.add_argument("query")
    sql.add_argument("--csv", action="store_true", help="write CSV to stdout")
    sql.add_argument("--max-rows", type=int, default=40)
    sql.add_argument(
        "--timezone",
        default=BUSINESS_TIMEZONE,
        help=f"show timestamps in this time zone (default {BUSINESS_TIMEZONE}, the business's)",
    )
    sql.set_defaults(handler="sql:cmd_sql")

    metrics = command(
        "metrics",
        help="the headline metrics (recognised revenue, margins, points liability) over the "
        "published marts, as the dbt semantic layer defines them",
    )
    metrics.add_argument(
        "metrics", nargs="?", help="comma-separated metric names (none: list the metrics)"
    )
    metrics.add_argument(
        "--group-by",
        default="",
        help="comma-separated, as in `mf query`: metric_time__month, brand__brand_name_zh …",
    )
    metrics.add_argument("--start", type=parse_date, help="first business date (metric_time)")
    metrics.add_argument("--end", type=parse_date, help="last business date (metric_time)")
    metrics.add_argument(
        "--where",
        action="append",
        default=[],
        help="a filter, as in `mf query`: \"{{ Dimension('margin_row__is_adjustment') }} = false\"",
    )
    metrics.add_argument("--explain", action="store_true", help="print the SQL, run nothing")
    metrics.add_argument("--csv", action="store_true", help="write CSV to stdout")
    metrics.add_argument("--max-rows", type=int, default=40)
    metrics.add_argument("--timezone", default=BUSINESS_TIMEZONE, help=argparse.SUPPRESS)
    metrics.set_defaults(handler="metrics:cmd_metrics")

    audit = command(
        "audit", help="every gate suite over the whole warehouse (or a range), into gate history"
    )
    audit.add_argument("--start", type=parse_date, help="first business date (default: all)")
    audit.add_argument("--end", type=parse_date, help="last business date (default: --start)")
    audit.set_defaults(handler="audit:cmd_audit")

    report = command(
        "report", help="write the daily reports of published dates (a run writes its last 31)"
    )
    report.add_argument("--start", type=parse_date, required=True, help="first business date")
    report.add_argument("--end", type=parse_date, help="last business date (default: --start)")
    report.set_defaults(handler="report:cmd_report")

    close = command(
        "close-period", help="close a month: its published figures stop moving (audited)"
    )
    close.add_argument("period", help="the month, YYYY-MM")
    close.add_argument("--by", help="who closes it (default: your user name)")
    close.add_argument("--reason", help="why, kept in the audit")
    close.set_defaults(handler="periods:cmd_close_period")

    reopen = command("reopen-period", help="reopen a closed month (audited)")
    reopen.add_argument("period", help="the month, YYYY-MM")
    reopen.add_argument("--by", required=True, help="who reopens it")
    reopen.add_argument("--reason", required=True, help="why, kept in the audit")
    reopen.set_defaults(handler="periods:cmd_reopen_period")

    periods = command("periods", help="every published month: open or closed, by whom")
    periods.set_defaults(handler="periods:cmd_periods")

    backup = command(
        "backup", help="snapshot build.duckdb, marts.duckdb and the lake (consistent, verified)"
    )
    backup.add_argument("--to", help="snapshot folder (default: backups/<UTC time>/ of the home)")
    backup.set_defaults(handler="snapshots:cmd_backup")

    restore = command(
        "restore", help="put a snapshot back (verified first), then run the gates on it"
    )
    restore.add_argument("snapshot", help="the folder `yecai backup` printed")
    restore.add_argument("--no-check", action="store_true", help="do not run the gates after")
    restore.set_defaults(handler="snapshots:cmd_restore")

    ui = command("ui", help="start the Dagster UI for this home on 127.0.0.1")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=3000)
    ui.add_argument(
        "--demo", action="store_true", help="runs from the UI may use the public demo key"
    )
    ui.set_defaults(handler="ui:cmd_ui")
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # Each command's module is imported when it runs: `yecai --help` stays quick.
    module, name = args.handler.split(":")
    handler = getattr(importlib.import_module(f"pipelines.cli.{module}"), name)
    try:
        return handler(args)
    except SettingsError as exc:
        print(f"yecai: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader left (`yecai sql … | head`): stop quietly, as a Unix command does.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        print(f"yecai: {describe_os_error(exc)}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
