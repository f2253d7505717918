"""``yecai metrics``: the headline metrics, as dbt's semantic layer defines them, over the
published marts (what `mf query` answers over the build warehouse)."""

from __future__ import annotations

import argparse
import sys

from pipelines.cli.common import EXIT_USAGE, not_there_yet, settings_of


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def cmd_metrics(args: argparse.Namespace) -> int:
    from metricflow_semantics.errors.error_classes import InformativeUserError

    from pipelines.cli.sql import cmd_sql
    from pipelines.publish.metrics import PublishedMetrics
    from pipelines.transform.dbt_project import prepare_manifest

    settings = settings_of(args)
    settings.export_env()  # dbt reads the home while it parses
    prepare_manifest()  # the semantic manifest comes with it
    if not args.metrics:
        for name, label, description in PublishedMetrics.defined():
            print(f"{name:<22} {label}\n{'':<22} {description}")
        return 0
    if not settings.marts_db.exists():
        return not_there_yet("metrics", settings.home, settings.marts_db)
    group_by = _names(args.group_by)
    try:
        sql = PublishedMetrics().sql(
            _names(args.metrics), group_by, args.start, args.end, args.where, group_by
        )
    except InformativeUserError as exc:
        print(f"yecai metrics: {exc}", file=sys.stderr)
        return EXIT_USAGE
    query = _dates_as_dates(sql, group_by, _names(args.metrics))
    if args.explain:
        print(query)
        return 0
    return cmd_sql(argparse.Namespace(**vars(args), query=query))


def _dates_as_dates(sql: str, group_by: list[str], metrics: list[str]) -> str:
    """MetricFlow truncates business dates to timestamps (2026-11-01 00:00:00): show the
    dates they are, columns in the order asked, rows by the group-by."""
    columns = [
        f'cast("{name}" as date) as "{name}"' if name.startswith("metric_time") else f'"{name}"'
        for name in group_by
    ] + [f'"{name}"' for name in metrics]
    order = ", ".join(str(i) for i in range(1, len(group_by) + 1))
    return f"select {', '.join(columns)}\nfrom (\n{sql}\n) as metrics" + (
        f"\norder by {order}" if order else ""
    )
