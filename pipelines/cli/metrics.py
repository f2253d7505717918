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
    try:
        query = PublishedMetrics().sql(
            _names(args.metrics), _names(args.group_by), args.start, args.end, args.where
        )
    except InformativeUserError as exc:
        print(f"yecai metrics: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.explain:
        print(query)
        return 0
    return cmd_sql(argparse.Namespace(**vars(args), query=query))
