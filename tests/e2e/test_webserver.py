"""A data engineer's backfill from the Dagster UI, against a real dagster-webserver and
dagster-daemon started by `yecai ui`: the UI's own GraphQL mutation, one run for the whole
range, published marts; a `yecai run` started meanwhile waits for the writer instead of
failing; the asset graph renders in Debian's chromium.

Select it alone with `pytest -m server`.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.generate import GenerateRequest, generate
from pipelines.settings import Settings
from tests.e2e.browser import ARTIFACTS, chromium, is_not_blank
from tests.e2e.test_cli import YECAI, yecai_env

pytestmark = [pytest.mark.slow, pytest.mark.server, pytest.mark.browser]
FIRST = date(2024, 5, 6)
BACKFILL = [FIRST + timedelta(days=i) for i in range(3)]
CLI_DAY = FIRST + timedelta(days=3)
LOCATION = "pipelines.definitions"
# As the UI's launchpad sends it (dagster-webserver's bundle, LaunchPartitionBackfill).
LAUNCH_PARTITION_BACKFILL = """
mutation LaunchPartitionBackfill($backfillParams: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $backfillParams) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PartitionSetNotFoundError { message }
    ... on PartitionKeysNotFoundError { message }
    ... on UnauthorizedError { message }
    ... on PythonError { message stack }
  }
}"""
WORKSPACE_STATUS = """
{
  workspaceOrError {
    ... on Workspace {
      locationEntries {
        loadStatus
        locationOrLoadError { __typename ... on PythonError { message } }
      }
    }
  }
}"""
BACKFILL_STATUS = """
query($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    ... on PartitionBackfill { status runs(limit: 10) { runId status tags { key value } } }
    ... on PythonError { message }
  }
}"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self, home: Path, port: int, demo: bool = False):
        self.home, self.url = home, f"http://127.0.0.1:{port}"
        self.log = (home / "ui.log").open("w")
        self.process = subprocess.Popen(
            [YECAI, "--home", str(home), "ui", "--port", str(port), *(["--demo"] if demo else [])],
            env=yecai_env(key=None) if demo else yecai_env(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: nothing outlives the test
        )

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"{self.url}/graphql",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            payload = json.loads(response.read())
        assert "errors" not in payload, payload["errors"]
        return payload["data"]

    def wait_until_announced(self, timeout: float = 180) -> str:
        """The line in which `yecai ui` gives its address."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.home / "ui.log").read_text()
            announced = [
                line
                for line in (self.home / "ui.log").read_text().splitlines()
                if line.startswith("Dagster UI for")
            ]
            if announced:
                return announced[0]
            time.sleep(0.2)
        raise TimeoutError(f"yecai ui did not give its address in {timeout} s")

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/server_info", timeout=5) as response:
                return response.status == 200
        except OSError:
            return False

    def wait_until_loaded(self, timeout: float = 180) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.home / "ui.log").read_text()
            try:
                nodes = self.graphql("{ assetNodes { assetKey { path } isMaterializable } }")[
                    "assetNodes"
                ]
                if nodes:
                    # The launchpad offers what can be materialized: not the tables yecai's
                    # own commands write (period close), which dbt reads as sources.
                    return [n for n in nodes if n["isMaterializable"]]
                failed = self.location_error()
                assert failed is None, f"{LOCATION} did not load: {failed}\n{self.log_tail()}"
            except OSError:
                pass
            time.sleep(1)
        raise TimeoutError(
            f"dagster-webserver did not serve {self.url} in {timeout} s; "
            f"{LOCATION}: {self.location_status()}\n{self.log_tail()}"
        )

    def location_status(self) -> str:
        """The code location's load status as the UI shows it (LOADING, LOADED)."""
        try:
            entries = self.graphql(WORKSPACE_STATUS)["workspaceOrError"]["locationEntries"]
        except OSError as unreachable:
            return f"unknown ({unreachable})"
        return ", ".join(entry["loadStatus"] for entry in entries) or "no location"

    def location_error(self) -> str | None:
        """The error the code location failed to load with, if it did."""
        entries = self.graphql(WORKSPACE_STATUS)["workspaceOrError"]["locationEntries"]
        errors = [
            entry["locationOrLoadError"]
            for entry in entries
            if (entry["locationOrLoadError"] or {}).get("__typename") == "PythonError"
        ]
        return errors[0]["message"] if errors else None

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join((self.home / "ui.log").read_text().splitlines()[-lines:])

    def launch_backfill(self, days: list[date]) -> str:
        """Every asset for these days, as the UI's launchpad asks for it; the backfill id."""
        nodes = self.wait_until_loaded()
        launched = self.graphql(
            LAUNCH_PARTITION_BACKFILL,
            {
                "backfillParams": {
                    "tags": [],
                    "assetSelection": [{"path": node["assetKey"]["path"]} for node in nodes],
                    "partitionNames": [day.isoformat() for day in days],
                    "fromFailure": False,
                }
            },
        )["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        return launched["backfillId"]

    def wait_for_backfill(self, backfill_id: str, timeout: float = 600) -> dict:
        """The backfill once it is no longer in progress (or when the time is up)."""
        deadline = time.monotonic() + timeout
        while True:
            backfill = self.graphql(BACKFILL_STATUS, {"id": backfill_id})[
                "partitionBackfillOrError"
            ]
            if backfill["status"] != "REQUESTED" or time.monotonic() > deadline:
                return backfill
            time.sleep(2)

    def stop(self) -> None:
        """SIGTERM to `yecai ui` (it stops the webserver and the daemon it started); the
        process group is killed if anything is left."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=40)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("ui") / "home"
    settings = Settings(home=home, start_date=date(2024, 1, 1))
    generate(
        settings.landing,
        settings.truth,
        GenerateRequest(start=FIRST, days=4, scale=0.05, seed=11, anomalies=0.003),
    )
    running = Server(home, _free_port())
    try:
        running.announced = running.wait_until_announced()
        running.answered_when_announced = running.answers()
        running.wait_until_loaded()
        yield running
    finally:
        running.stop()


def _writing_interval(instance: dg.DagsterInstance, run_id: str) -> tuple[float, float]:
    steps = instance.get_run_step_stats(run_id)
    return min(s.start_time for s in steps), max(s.end_time for s in steps)


def test_the_ui_gives_its_address_once_it_answers(server):
    assert server.announced.endswith(f"{server.url}  (Ctrl-C stops it)")
    assert server.answered_when_announced
    assert "starting the Dagster UI" in (server.home / "ui.log").read_text()


@pytest.mark.long  # a backfill through the daemon, then a CLI run
def test_a_ui_backfill_is_one_run_and_a_cli_run_waits_for_it(server):
    backfill_id = server.launch_backfill(BACKFILL)
    # Meanwhile an engineer runs another day from the command line.
    cli = subprocess.Popen(
        [YECAI, "--home", str(server.home), "run", "--start", CLI_DAY.isoformat()],
        env=yecai_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    backfill = server.wait_for_backfill(backfill_id)
    out, err = cli.communicate(timeout=600)
    assert backfill["status"] == "COMPLETED_SUCCESS", backfill
    assert cli.returncode == 0, out + err

    # One run for the whole range, with the range's tags.
    [run] = backfill["runs"]
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert (
        tags["dagster/asset_partition_range_start"],
        tags["dagster/asset_partition_range_end"],
    ) == (
        BACKFILL[0].isoformat(),
        BACKFILL[-1].isoformat(),
    )
    # The two runs wrote build.duckdb one after the other.
    settings = Settings(home=server.home, start_date=date(2024, 1, 1))
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        cli_run = next(
            r.run_id for r in instance.get_runs() if r.tags.get("yecai/launched_by") == "cli"
        )
        first, second = sorted(
            [_writing_interval(instance, run["runId"]), _writing_interval(instance, cli_run)]
        )
    assert first[1] <= second[0], (first, second)
    # Published for every day, with the report of each backfilled day.
    with duckdb.connect(str(settings.marts_db), read_only=True) as con:
        days = {
            d
            for (d,) in con.execute(
                "select distinct business_date from fct_sales_margin"
            ).fetchall()
        }
    assert days == {*BACKFILL, CLI_DAY}
    for day in BACKFILL:
        assert (settings.reports / "daily" / f"{day}.html").exists()


def test_the_asset_graph_shows_the_assets(server, tmp_path):
    page = f"{server.url}/locations/{LOCATION}/asset-groups/marts"
    budget = "--virtual-time-budget=30000"  # let the app fetch and lay out the graph
    dom = chromium(tmp_path, "--window-size=1600,1200", budget, "--dump-dom", page).stdout
    # The graph draws the nodes in view (the marts group's first column, the dims, at this
    # size).
    for asset in ("dim_channels", "dim_products", "dim_stores"):
        assert asset in dom, asset
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "asset-graph.png"
    chromium(tmp_path, "--window-size=1600,1200", budget, f"--screenshot={shot}", page)
    assert is_not_blank(shot)


SENSOR_TICKS = """
query($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) {
    ... on Sensor { sensorState { ticks(limit: 5) { status skipReason runIds } } }
    ... on PythonError { message }
  }
}"""


@pytest.mark.long  # two demos, then the daemon's first sensor tick
def test_demo_twice_then_the_ui_queues_no_run(tmp_path):
    """Files ingestion already handled (same sha256) are no reason for the late-files
    sensor to run: `make run` twice, then `yecai ui`, and its first tick runs nothing."""
    home = tmp_path / "home"
    for _ in range(2):
        demo = subprocess.run(
            [YECAI, "--home", str(home), "demo"],
            env=yecai_env(key=None),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert demo.returncode == 0, demo.stderr[-2000:]
    before = dg.DagsterInstance.from_config(str(home / "dagster"))
    runs_before = len(before.get_run_records())
    before.dispose()
    server = Server(home, _free_port(), demo=True)
    try:
        server.wait_until_loaded()
        selector = {
            "repositoryName": "__repository__",
            "repositoryLocationName": LOCATION,
            "sensorName": "yecai_late_files",
        }
        deadline, ticks = time.monotonic() + 240, []
        while time.monotonic() < deadline and not ticks:
            state = server.graphql(SENSOR_TICKS, {"selector": selector})["sensorOrError"]
            ticks = [t for t in state["sensorState"]["ticks"] if t["status"] != "STARTED"]
            time.sleep(2)
        assert ticks, "the late-files sensor did not tick"
        assert [t["runIds"] for t in ticks] == [[]] * len(ticks), ticks
        runs = server.graphql("{ runsOrError { ... on Runs { results { runId } } } }")
        assert len(runs["runsOrError"]["results"]) == runs_before
    finally:
        server.stop()
