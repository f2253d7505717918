"""``yecai ui``: dagster-webserver and dagster-daemon for the home, on 127.0.0.1."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from pipelines.cli.common import settings_of
from pipelines.pii import resolve_key
from pipelines.runs.instance import ensure_instance_home
from pipelines.settings import DEMO_ENV, REPO_ROOT
from pipelines.transform.dbt_project import prepare_manifest


def cmd_ui(args: argparse.Namespace) -> int:
    if args.demo:
        os.environ[DEMO_ENV] = "1"
    settings = settings_of(args)
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
    url = f"http://{args.host}:{args.port}"
    print(f"starting the Dagster UI for {settings.home} (about 30 s)...", flush=True)
    ready = False

    def stop(_signum, _frame):  # SIGTERM (a service manager, a test) stops both, like Ctrl-C
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        while webserver.poll() is None and daemon.poll() is None:
            if not ready and _answers(url):
                ready = True
                print(f"Dagster UI for {settings.home}: {url}  (Ctrl-C stops it)", flush=True)
            time.sleep(0.5)
    except KeyboardInterrupt:
        return 0
    finally:
        for process in (webserver, daemon):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (webserver, daemon):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    stopped = "webserver" if webserver.returncode else "daemon"
    print(f"yecai ui: the Dagster {stopped} stopped (its error is above)", file=sys.stderr)
    return 1


def _answers(url: str) -> bool:
    """Whether the webserver serves requests yet (its /server_info)."""
    local = url.replace("://0.0.0.0:", "://127.0.0.1:")
    try:
        with urllib.request.urlopen(f"{local}/server_info", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False
