"""``yecai close-period``, ``yecai reopen-period``, ``yecai periods``: finance's month close."""

from __future__ import annotations

import argparse
import getpass
import sys

from pipelines.cli.common import EXIT_USAGE, not_there_yet, settings_of


def _note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _usable(command: str, args: argparse.Namespace):
    """The home's settings, or the exit code of a usage error (a bad month, no warehouse)."""
    from pipelines.periods import PeriodRefused, parse_period

    try:
        parse_period(args.period)
    except PeriodRefused as wrong:
        print(f"yecai {command}: {wrong}", file=sys.stderr)
        return EXIT_USAGE
    settings = settings_of(args)
    if not settings.build_db.exists():
        return not_there_yet(command, settings.home, settings.build_db)
    return settings


def cmd_close_period(args: argparse.Namespace) -> int:
    from pipelines.periods import PeriodRefused, close_period
    from pipelines.publish.month_end import write_month_end_reports
    from pipelines.transform.dbt_project import MANIFEST_PATH, prepare_manifest
    from pipelines.transform.manifest import load_manifest

    settings = _usable("close-period", args)
    if isinstance(settings, int):
        return settings
    settings.export_env()  # dbt reads the home while it parses
    prepare_manifest()
    by = args.by or getpass.getuser()
    try:
        close = close_period(
            settings, load_manifest(MANIFEST_PATH), args.period, by, args.reason, note=_note
        )
    except PeriodRefused as refused:
        print(f"yecai close-period: {refused}", file=sys.stderr)
        return 1
    print(f"closed {close.period} (by {by}; event {close.event_id}): checksums of")
    for mart, (rows, checksum) in sorted(close.checksums.items()):
        print(f"  - {mart}: {rows:,} rows, md5 {checksum}")
    for page in write_month_end_reports(settings, close.period):
        print(f"month-end report: {page}")
    return 0


def cmd_reopen_period(args: argparse.Namespace) -> int:
    from pipelines.periods import PeriodRefused, reopen_period

    settings = _usable("reopen-period", args)
    if isinstance(settings, int):
        return settings
    try:
        event = reopen_period(settings, args.period, args.by, args.reason, note=_note)
    except PeriodRefused as refused:
        print(f"yecai reopen-period: {refused}", file=sys.stderr)
        return 1
    print(
        f"reopened {args.period} (by {args.by}; event {event}): its figures follow late data "
        f"again until `yecai close-period {args.period}`"
    )
    return 0


def cmd_periods(args: argparse.Namespace) -> int:
    from pipelines.periods import published_months

    settings = settings_of(args)
    if not settings.build_db.exists():
        return not_there_yet("periods", settings.home, settings.build_db)
    months = published_months(settings.build_db)
    if not months:
        print(f"no month of {settings.home} has been published yet", file=sys.stderr)
        return EXIT_USAGE
    print(f"{'month':<8} {'status':<8} {'by':<16} {'when (UTC)':<17} {'reason':<24} late data")
    for month in months:
        when = f"{month.at:%Y-%m-%d %H:%M}" if month.at else ""
        late = f"changed {', '.join(month.adjusted_marts)}" if month.adjusted_marts else ""
        print(
            f"{month.period:<8} {month.status:<8} {month.by or '':<16} {when:<17} "
            f"{month.reason or '':<24} {late}".rstrip()
        )
    if any(month.adjusted_marts for month in months):
        print("late data is carried into the first open month: see the period_adjustments mart")
    return 0
