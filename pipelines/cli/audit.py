"""``yecai audit``: every gate suite over the whole warehouse (or a range of dates)."""

from __future__ import annotations

import argparse
import sys

from pipelines.cli.common import EXIT_USAGE, not_there_yet, settings_of


def _note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_audit(args: argparse.Namespace) -> int:
    from pipelines.gates.audit import audit_home, audit_run_id
    from pipelines.gates.window import Window

    settings = settings_of(args)
    if not settings.build_db.exists():
        return not_there_yet("audit", settings.home, settings.build_db)
    if args.end and not args.start:
        print("yecai audit: --end needs --start", file=sys.stderr)
        return EXIT_USAGE
    window = Window(args.start, args.end or args.start) if args.start else Window.everything()
    scope = "every business date" if window.is_everything else f"{window.start}..{window.end}"
    audit = audit_home(settings, window, audit_run_id(), _note)
    print(
        f"audit {audit.run_id} of {scope}: {audit.suites} suites, "
        f"{len(audit.failed)} error gate(s) failed, {len(audit.warnings)} warning(s); "
        f"recorded in audit.gate_results, Data Docs in {settings.reports / 'gates'}"
    )
    for line in audit.failed:
        print(f"  - error: {line}")
    for line in audit.warnings:
        print(f"  - warn: {line}")
    return 0 if audit.passed else 1
