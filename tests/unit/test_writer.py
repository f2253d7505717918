"""One writer on build.duckdb: a second writer waits for the lock; a lock held outside
yecai is retried with backoff; other errors fail at once."""

import subprocess
import sys
import textwrap
import time

import dagster as dg
import duckdb
import pytest

from pipelines.defs.retry import is_transient, retry_if_transient
from pipelines.warehouse_lock import lock_holder, writer_lock

HOLD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from pipelines.warehouse_lock import writer_lock
    with writer_lock(Path(sys.argv[1]), "run first", print):
        print("holding", flush=True)
        time.sleep(float(sys.argv[2]))
    """
)


def test_a_second_writer_waits_for_the_first(tmp_path):
    first = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path), "3"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert first.stdout.readline().strip() == "holding"
        assert lock_holder(tmp_path).startswith("run first")
        notes: list[str] = []
        started = time.monotonic()
        with writer_lock(tmp_path, "run second", notes.append, poll_seconds=0.1):
            waited = time.monotonic() - started
            assert lock_holder(tmp_path) is None or "second" in lock_holder(tmp_path)
        assert first.wait(timeout=10) == 0
        assert waited > 2
        assert len(notes) == 1 and notes[0].startswith("waiting for build.duckdb: run first")
    finally:
        first.kill()
    assert lock_holder(tmp_path) is None


def test_a_duckdb_lock_held_elsewhere_is_transient(tmp_path):
    database = tmp_path / "build.duckdb"
    duckdb.connect(str(database)).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(database)!r}); print('open', "
            "flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(duckdb.IOException) as error:
            duckdb.connect(str(database))
    finally:
        holder.kill()
    assert is_transient(error.value)
    assert not is_transient(ValueError("column quantity is not a number"))


def _job_failing_first(error: Exception, attempts: list[int]) -> dg.JobDefinition:
    @dg.asset
    def flaky(context: dg.AssetExecutionContext) -> None:
        attempts.append(context.op_execution_context.retry_number)
        with retry_if_transient(context):
            if len(attempts) == 1:
                raise error

    return dg.Definitions(
        assets=[flaky],
        jobs=[dg.define_asset_job("flaky_job", executor_def=dg.in_process_executor)],
    ).resolve_job_def("flaky_job")


def test_transient_errors_retry_and_others_fail_at_once(monkeypatch):
    monkeypatch.setattr("pipelines.defs.retry.FIRST_WAIT_SECONDS", 0)
    attempts: list[int] = []
    lock = duckdb.IOException('IO Error: Could not set lock on file "build.duckdb"')
    result = _job_failing_first(lock, attempts).execute_in_process(raise_on_error=False)
    assert result.success and attempts == [0, 1]

    attempts.clear()
    broken = _job_failing_first(KeyError("order_id"), attempts)
    assert not broken.execute_in_process(raise_on_error=False).success
    assert attempts == [0]


ALIVE = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from pipelines.warehouse_lock import run_alive
    with run_alive(Path(sys.argv[1]), sys.argv[2]):
        print("alive", flush=True)
        time.sleep(120)
    """
)


def test_a_started_run_whose_process_died_is_marked_failed(tmp_path):
    """Otherwise it stays "started" for ever and holds the run queue."""
    from dagster._core.storage.dagster_run import DagsterRun

    from pipelines.runs.abandoned import fail_abandoned_runs

    processes = {}
    with dg.DagsterInstance.ephemeral() as instance:
        for run_id in ("killed-run", "live-run", "not-yet-writing"):
            instance.add_run(
                DagsterRun(
                    job_name="yecai_daily", run_id=run_id, status=dg.DagsterRunStatus.STARTED
                )
            )
        for run_id in ("killed-run", "live-run"):
            processes[run_id] = subprocess.Popen(
                [sys.executable, "-c", ALIVE, str(tmp_path), run_id],
                stdout=subprocess.PIPE,
                text=True,
            )
            assert processes[run_id].stdout.readline().strip() == "alive"
        try:
            assert fail_abandoned_runs(instance, tmp_path) == []
            processes["killed-run"].kill()
            processes["killed-run"].wait()
            assert fail_abandoned_runs(instance, tmp_path) == ["killed-run"]
            status = {run.run_id: run.status for run in instance.get_runs()}
            assert status == {
                "killed-run": dg.DagsterRunStatus.FAILURE,
                "live-run": dg.DagsterRunStatus.STARTED,
                "not-yet-writing": dg.DagsterRunStatus.STARTED,
            }
        finally:
            for process in processes.values():
                process.kill()


def test_the_lock_is_taken_once_per_process(tmp_path):
    """`yecai run` holds the lock before its run; the run's steps ask for it again."""
    with writer_lock(tmp_path, "yecai run", print):
        with writer_lock(tmp_path, "a step of that run", print, poll_seconds=0.1):
            pass  # did not wait for itself
        first = subprocess.run(
            [sys.executable, "-c", "from pathlib import Path; import sys; "
             "from pipelines.warehouse_lock import lock_holder; "
             f"print(lock_holder(Path({str(tmp_path)!r})))"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert first.stdout.startswith("yecai run")  # still held, by this process
    assert lock_holder(tmp_path) is None
