"""What every command shares: its settings, dates, exit codes and outcome printing."""

from __future__ import annotations

import argparse
import errno
import os
import shlex
import shutil
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


def program() -> str:
    """How to call yecai again from where it was called: ``yecai`` when that is on PATH,
    else the path it was called by (``make run`` calls ``.venv/bin/yecai``)."""
    called = sys.argv[0]
    on_path = shutil.which("yecai")
    if on_path and os.path.samefile(on_path, called):
        return "yecai"
    return shlex.quote(called if os.sep in called else os.path.abspath(called))


def not_there_yet(command: str, home, path) -> int:
    """A command that reads what runs write, in a home where no run wrote it: say so."""
    print(
        f"yecai {command}: nothing in {home} yet ({path} does not exist): run `yecai run` "
        "first, or check --home",
        file=sys.stderr,
    )
    return EXIT_USAGE


def report(outcome) -> int:
    """Print a run's outcome (stdout when it published, else stderr); its exit code."""
    stream = sys.stdout if outcome.exit_code == 0 else sys.stderr
    print(outcome.message, file=stream)
    for line in outcome.details:
        print(f"  - {line}", file=stream)
    return outcome.exit_code


def describe_os_error(error: OSError) -> str:
    """What went wrong with a file, where, and what to do about it."""
    where = error.filename or "a file"
    hints = {
        errno.ENOSPC: "the disk is full: free space on it (or give a --home on another disk)",
        errno.EDQUOT: "the disk quota is used up: free space or raise the quota",
        errno.EROFS: "the file system is read-only: give a --home on a writable disk",
        errno.EACCES: "yecai may not write there: fix the permissions or give another --home",
        errno.EPERM: "yecai may not write there: fix the permissions or give another --home",
    }
    hint = hints.get(error.errno, "check that the home is a writable folder")
    return f"cannot use {where}: {error.strerror or error}. {hint}"
