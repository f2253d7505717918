"""The ``yecai`` command: generate, run, demo, sql, ui (SPEC §9)."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from pipelines.settings import DEMO_ENV, REPO_ROOT, Settings, SettingsError, duckdb_config

EXIT_USAGE = 2
DEMO_DAYS = 14
DEMO_SCALE = 0.05
DEMO_SEED = 42


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from exc


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(home=args.home, start_date=args.start_date)


def cmd_generate(args: argparse.Namespace) -> int:
    from pipelines.generate import GenerateRequest, generate

    settings = _settings(args)
    request = GenerateRequest(
        start=args.start,
        days=args.days,
        scale=args.scale,
        seed=args.seed,
        anomalies=args.anomalies,
        file_defects=args.file_defects,
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
    return 0


def _report(outcome) -> int:
    stream = sys.stdout if outcome.exit_code == 0 else sys.stderr
    print(outcome.message, file=stream)
    for line in outcome.details:
        print(f"  - {line}", file=stream)
    return outcome.exit_code


def cmd_run(args: argparse.Namespace) -> int:
    from pipelines.orchestrate import run_window, yesterday
    from pipelines.pii import resolve_key

    if args.demo:
        os.environ[DEMO_ENV] = "1"
    settings = _settings(args)
    resolve_key(settings.demo)  # refuse early, before any work, when there is no key
    start = args.start or yesterday()
    end = args.end or (args.start or yesterday())
    return _report(run_window(settings, start, end, verbose=args.verbose))


def cmd_demo(args: argparse.Namespace) -> int:
    from pipelines.generate import GenerateRequest, generate
    from pipelines.orchestrate import run_window, yesterday
    from pipelines.pii import resolve_key

    os.environ[DEMO_ENV] = "1"
    settings = _settings(args)
    resolve_key(settings.demo)  # says loudly that the demo key is in use, unless a key is set
    end = yesterday()
    start = end - timedelta(days=args.days - 1)
    print(f"yecai demo: {args.days} days of sample data ({start}..{end}) in {settings.home}")
    summary = generate(
        settings.landing,
        settings.truth,
        GenerateRequest(start=start, days=args.days, scale=args.scale, seed=DEMO_SEED),
    )
    print(f"generated {summary.sales_lines:,} sales lines in {summary.seconds:.1f}s")
    started = time.perf_counter()
    outcome = run_window(settings, start, end, verbose=args.verbose)
    code = _report(outcome)
    if code != 0:
        return code
    print(f"ran in {time.perf_counter() - started:.1f}s")
    print(f"published marts: {settings.marts_db}")
    example = "select * from fct_sales_margin limit 5"
    print(f'query them:      yecai --home {settings.home} sql "{example}"')
    print(f"Dagster UI:      yecai --home {settings.home} ui")
    print(f"daily report:    {settings.reports / 'daily' / f'{end}.html'}")
    print(f"gate results:    {settings.reports / 'gates' / 'index.html'}")
    print(f"dbt docs:        {settings.reports / 'dbt-docs' / 'index.html'}")
    _print_demo_summary(settings)
    return 0


def _print_demo_summary(settings: Settings) -> None:
    import duckdb

    with duckdb.connect(str(settings.marts_db), read_only=True, config=duckdb_config()) as con:
        print(
            con.sql(
                "select brand_code, count(*) as lines, sum(recognized_revenue) as revenue, "
                "sum(gross_margin) as gross_margin, "
                "round(100 * sum(gross_margin) / nullif(sum(recognized_revenue), 0), 1) "
                "as margin_pct from fct_sales_margin group by brand_code order by brand_code"
            )
        )


# A spreadsheet opening a CSV runs a cell that starts with one of these as a formula.
FORMULA_START = r"^[=+\-@\t\r]"


def spreadsheet_safe(frame):
    """Text cells that a spreadsheet would run as a formula (CSV injection: `=cmd|...`) get a
    leading apostrophe, as OWASP advises; numbers and other text are left as they are."""
    import polars as pl

    return frame.with_columns(
        pl.when(pl.col(name).str.contains(FORMULA_START))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name, dtype in frame.schema.items()
        if dtype == pl.String
    )


def cmd_sql(args: argparse.Namespace) -> int:
    import duckdb

    settings = _settings(args)
    if not settings.marts_db.exists():
        print(
            f"no published marts at {settings.marts_db}: run `yecai run` (or `yecai demo`) first",
            file=sys.stderr,
        )
        return EXIT_USAGE
    config = {**duckdb_config(), "enable_external_access": False, "lock_configuration": True}
    with duckdb.connect(str(settings.marts_db), read_only=True, config=config) as con:
        try:
            relation = con.sql(args.query)
        except duckdb.Error as exc:
            print(f"query failed: {exc}", file=sys.stderr)
            return EXIT_USAGE
        if relation is None:
            return 0
        if args.csv:
            spreadsheet_safe(relation.pl()).write_csv(sys.stdout)
        else:
            relation.show(max_rows=args.max_rows, max_width=200)
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from pipelines.backup import BackupError, backup

    try:
        snapshot = backup(_settings(args), Path(args.to) if args.to else None)
    except BackupError as exc:
        print(f"backup refused: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"snapshot of build.duckdb, marts.duckdb and the lake: {snapshot}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from pipelines.backup import BackupError, check_gates, restore

    settings = _settings(args)
    try:
        aside = restore(settings, Path(args.snapshot))
    except BackupError as exc:
        print(f"restore refused, nothing changed: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"restored {args.snapshot} into {settings.home}; what it replaced is in {aside}")
    if args.no_check:
        return 0
    suites, failed = check_gates(settings)
    if failed:
        print("error gates failed on the restored warehouse:", *failed, sep="\n  ")
        return 1
    print(f"gates: all {suites} suites run, every error gate passed")
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    from pipelines.defs.transform.dbt import prepare_manifest
    from pipelines.instance import ensure_instance_home
    from pipelines.pii import resolve_key

    if args.demo:
        os.environ[DEMO_ENV] = "1"
    settings = _settings(args)
    resolve_key(settings.demo)  # runs launched from the UI need the key too
    settings.export_env()
    ensure_instance_home(settings)
    prepare_manifest()
    bin_dir = Path(sys.executable).parent
    env = {**os.environ}
    workspace = str(REPO_ROOT / "workspace.yaml")
    webserver = subprocess.Popen(
        [
            str(bin_dir / "dagster-webserver"),
            "-w",
            workspace,
            "-h",
            args.host,
            "-p",
            str(args.port),
        ],
        env=env,
    )
    daemon = subprocess.Popen([str(bin_dir / "dagster-daemon"), "run", "-w", workspace], env=env)
    print(
        f"Dagster UI for {settings.home}: http://{args.host}:{args.port}  (Ctrl-C stops it)",
        flush=True,
    )

    def stop(signum, frame):  # SIGTERM (a service manager, a test) stops both, like Ctrl-C
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        while webserver.poll() is None and daemon.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for process in (webserver, daemon):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (webserver, daemon):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="yecai",
        description="业财一体化: ingest, build, gate and publish business and finance marts.",
    )
    root.add_argument("--home", help="home directory (default $YECAI_HOME, else ./.yecai)")
    root.add_argument(
        "--start-date",
        help="first business date of the partitions (default $YECAI_START_DATE, else 2024-01-01)",
    )
    commands = root.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate", help="write realistic sample extracts to landing/")
    generate.add_argument("--start", type=_date, required=True, help="first business date")
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
    generate.set_defaults(handler=cmd_generate)

    run = commands.add_parser("run", help="ingest, build, gate and publish business dates")
    run.add_argument("--start", type=_date, help="first business date (default: yesterday)")
    run.add_argument("--end", type=_date, help="last business date (default: --start)")
    run.add_argument(
        "--demo", action="store_true", help="allow running without $YECAI_PII_KEY (sample data)"
    )
    run.add_argument("-v", "--verbose", action="store_true", help="show Dagster's run log")
    run.set_defaults(handler=cmd_run)

    demo = commands.add_parser("demo", help="generate a small sample, run it, show the results")
    demo.add_argument("--days", type=int, default=DEMO_DAYS)
    demo.add_argument("--scale", type=float, default=DEMO_SCALE)
    demo.add_argument("-v", "--verbose", action="store_true")
    demo.set_defaults(handler=cmd_demo)

    sql = commands.add_parser("sql", help="query the published marts (read-only)")
    sql.add_argument("query")
    sql.add_argument("--csv", action="store_true", help="write CSV to stdout")
    sql.add_argument("--max-rows", type=int, default=40)
    sql.set_defaults(handler=cmd_sql)

    backup = commands.add_parser(
        "backup", help="snapshot build.duckdb, marts.duckdb and the lake (consistent, verified)"
    )
    backup.add_argument("--to", help="snapshot folder (default: backups/<UTC time>/ of the home)")
    backup.set_defaults(handler=cmd_backup)

    restore = commands.add_parser(
        "restore", help="put a snapshot back (verified first), then run the gates on it"
    )
    restore.add_argument("snapshot", help="the folder `yecai backup` printed")
    restore.add_argument("--no-check", action="store_true", help="do not run the gates after")
    restore.set_defaults(handler=cmd_restore)

    ui = commands.add_parser("ui", help="start the Dagster UI for this home on 127.0.0.1")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=3000)
    ui.add_argument(
        "--demo", action="store_true", help="runs from the UI may use the public demo key"
    )
    ui.set_defaults(handler=cmd_ui)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.handler(args)
    except SettingsError as exc:
        print(f"yecai: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
