"""The README's "By hand" commands, run as written (on a copy of a built home, and a free
port instead of 3000): dbt builds a day and writes its docs; `dagster dev` serves the
project's code location."""

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request

import duckdb
import pytest

from pipelines.settings import REPO_ROOT
from tests.e2e.test_cli import yecai_env
from tests.e2e.test_webserver import _free_port

pytestmark = pytest.mark.slow

README_HOME = '"$PWD/.yecai"'


def readme_block(after: str) -> str:
    """The first ```sh block after the paragraph that starts with ``after``."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## By hand: dbt and `dagster dev`", 1)[1]
    return section.split(after, 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]


def test_the_readme_dbt_commands_build_a_day_and_its_docs(pipeline_home, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(pipeline_home.home, home)
    commands = readme_block("**dbt.**").replace(README_HOME, f'"{home}"')
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", commands],
        cwd=REPO_ROOT,
        env=yecai_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "Completed successfully" in result.stdout
    assert (REPO_ROOT / "dbt_project" / "target" / "static_index.html").exists()
    with duckdb.connect(str(home / "warehouse" / "build.duckdb"), read_only=True) as con:
        assert con.sql("select count(*) from marts.dim_brands").fetchall() == [(5,)]


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["data"]


@pytest.mark.server
def test_the_readme_dagster_dev_serves_the_project(pipeline_home, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(pipeline_home.home, home)
    port = _free_port()
    commands = readme_block("**`dagster dev`.**").replace(README_HOME, f'"{home}"')
    commands = commands.replace('"$PWD/.yecai/dagster"', f'"{home / "dagster"}"')
    commands = commands.replace("-p 3000", f"-p {port}")
    assert str(home) in commands and f"-p {port}" in commands
    server = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", commands],
        cwd=REPO_ROOT,
        env=yecai_env(key=None),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # dagster dev and its children stop together
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and server.poll() is None:
            try:
                locations = _graphql(
                    port,
                    "{ workspaceOrError { ... on Workspace { locationEntries {"
                    " name locationOrLoadError { __typename } } } } }",
                )
                entries = locations["workspaceOrError"]["locationEntries"]
                if entries and entries[0]["locationOrLoadError"]:
                    break
            except OSError:
                pass
            time.sleep(1)
        assert server.poll() is None, "dagster dev exited"
        assert [e["locationOrLoadError"]["__typename"] for e in entries] == ["RepositoryLocation"]
        assets = _graphql(port, "{ assetNodes { assetKey { path } } }")["assetNodes"]
        keys = {"/".join(a["assetKey"]["path"]) for a in assets}
        assert {"marts/fct_sales_margin", "marts/dim_calendar", "published/marts"} <= keys
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
