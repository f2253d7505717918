"""``yecai backup`` and ``yecai restore``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipelines.backup import BackupError, backup, check_gates, restore
from pipelines.cli.common import EXIT_USAGE, settings_of


def cmd_backup(args: argparse.Namespace) -> int:
    try:
        snapshot = backup(settings_of(args), Path(args.to) if args.to else None)
    except BackupError as exc:
        print(f"backup refused: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"snapshot of build.duckdb, marts.duckdb and the lake: {snapshot}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    try:
        aside = restore(settings, Path(args.snapshot))
    except BackupError as exc:
        print(f"restore refused, nothing changed: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"restored {args.snapshot} into {settings.home}; what it replaced is in {aside}")
    if args.no_check:
        return 0
    audit = check_gates(settings)
    if not audit.passed:
        print("error gates failed on the restored warehouse:", *audit.failed, sep="\n  ")
        return 1
    print(f"gates: all {audit.suites} suites run, every error gate passed")
    return 0
