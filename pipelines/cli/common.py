"""What every command shares: its settings, dates, exit codes and outcome printing."""

from __future__ import annotations

import argparse
import sys
from datetime import date

from pipelines.settings import Settings

EXIT_USAGE = 2


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from exc


def settings_of(args: argparse.Namespace) -> Settings:
    return Settings.from_env(home=args.home, start_date=args.start_date)


def report(outcome) -> int:
    """Print a run's outcome (stdout when it published, else stderr); its exit code."""
    stream = sys.stdout if outcome.exit_code == 0 else sys.stderr
    print(outcome.message, file=stream)
    for line in outcome.details:
        print(f"  - {line}", file=stream)
    return outcome.exit_code
