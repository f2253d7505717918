"""The reliability suite's crash points are inert unless asked, and never kill a parent."""

import subprocess
import sys

from pipelines.crash_points import CRASH_AT_ENV

CRASH_HERE = "from pipelines.crash_points import crash_point; crash_point('here'); print('alive')"


def run_point(env_value: str, new_session: bool) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", CRASH_HERE],
        env={CRASH_AT_ENV: env_value, "PATH": ""},
        capture_output=True,
        text=True,
        start_new_session=new_session,
    )


def test_a_point_not_named_does_nothing():
    assert run_point("elsewhere", new_session=True).stdout == "alive\n"


def test_a_named_point_kills_its_process_group():
    assert run_point("here", new_session=True).returncode == -9


def test_a_point_refuses_in_a_process_that_does_not_lead_its_group():
    """Killing the group there would kill the shell or pytest that started it."""
    refused = run_point("here", new_session=False)
    assert refused.returncode == 1
    assert "does not lead its process group" in refused.stderr
