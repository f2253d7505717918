"""``yecai report``: daily reports of any published dates, on demand."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta

from pipelines.cli.common import EXIT_USAGE, not_there_yet, settings_of


def cmd_report(args: argparse.Namespace) -> int:
    from pipelines.publish.report import write_daily_reports
    from pipelines.transform.dbt_project import prepare_manifest

    settings = settings_of(args)
    end = args.end or args.start
    if end < args.start:
        print("yecai report: --end is before --start", file=sys.stderr)
        return EXIT_USAGE
    if not settings.marts_db.exists():
        return not_there_yet("report", settings.home, settings.marts_db)
    settings.export_env()  # dbt reads the home while it parses
    prepare_manifest()  # the metrics the report shows are defined in the dbt project
    days = [args.start + timedelta(days=i) for i in range((end - args.start).days + 1)]
    paths = write_daily_reports(settings.marts_db, settings.reports, days)
    print(
        f"wrote {len(paths)} daily report(s): {paths[0]}"
        + (f" .. {paths[-1]}" if len(paths) > 1 else "")
    )
    return 0
