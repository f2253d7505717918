"""The CLI when the home itself is in the way: another run writing, a damaged run history,
a disk that cannot be written. A clear line and exit 2, never a traceback."""

import errno
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines import cli
from pipelines.settings import Settings
from tests.e2e.test_cli import YECAI, yecai, yecai_env
from tests.unit.test_writer import HOLD


@pytest.mark.reliability  # a whole run
def test_a_run_that_waits_for_another_says_so_on_the_terminal(tmp_path):
    settings = Settings(home=tmp_path / "home")
    settings.warehouse.mkdir(parents=True)
    settings.landing.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(settings.warehouse), "600"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        waiting = subprocess.Popen(
            [YECAI, "--home", str(settings.home), "run", "--start", "2024-03-01"],
            env=yecai_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        first_line = waiting.stderr.readline()  # blocks until the run has something to say
        assert waiting.poll() is None  # still waiting, not failed
    finally:
        holder.kill()
    rest = waiting.communicate(timeout=300)[1]
    assert "waiting for build.duckdb: run first (pid" in first_line
    assert "Traceback" not in first_line + rest


@pytest.mark.reliability  # two whole runs
def test_two_runs_of_the_same_second_write_their_own_logs(tmp_path):
    home = tmp_path / "home"
    (home / "landing").mkdir(parents=True)
    runs = [
        subprocess.Popen(
            [YECAI, "--home", str(home), "run", "--start", "2024-03-01"],
            env=yecai_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    for run in runs:
        run.communicate(timeout=300)
    logs = sorted((home / "logs").glob("run-*.log"))
    assert len(logs) == 2


def test_a_damaged_run_history_is_named_with_the_way_out(tmp_path):
    home = tmp_path / "home"
    history = home / "dagster" / "history"
    history.mkdir(parents=True)
    (home / "landing").mkdir()
    (history / "runs.db").write_text("not a database")
    result = yecai(home, "run", "--start", "2024-03-01")
    assert result.returncode == 2, result.stderr
    assert f"run history under {history} cannot be opened" in result.stderr
    assert "Move that folder aside" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("code", "hint"),
    [(errno.ENOSPC, "the disk is full"), (errno.EROFS, "read-only"), (errno.EACCES, "permissions")],
)
def test_a_disk_that_cannot_be_written_is_said_plainly(tmp_path, monkeypatch, capsys, code, hint):
    def refuse(*args, **kwargs):
        raise OSError(code, "refused", str(tmp_path / "home" / "landing"))

    monkeypatch.setattr(Path, "mkdir", refuse)
    status = cli.main(["--home", str(tmp_path / "home"), "generate", "--start", "2024-03-01",
                       "--days", "1"])  # fmt: skip
    err = capsys.readouterr().err
    assert status == 2 and hint in err and "landing" in err and "Traceback" not in err
