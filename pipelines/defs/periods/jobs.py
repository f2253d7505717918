"""Closing and reopening a month from the Dagster UI: jobs with the month as config, the
same engine as ``yecai close-period`` / ``reopen-period``. The run's metadata shows what
was checked (the month's dates) and what was recorded (each mart's rows and checksum)."""

import contextlib
from collections.abc import Iterator

import dagster as dg

from pipelines.defs.resources import BuildDbLock, YecaiResource
from pipelines.periods import (
    PeriodRefused,
    close_period,
    month_window,
    parse_period,
    reopen_period,
)
from pipelines.publish.month_end import write_month_end_reports
from pipelines.transform.dbt_project import MANIFEST_PATH
from pipelines.transform.manifest import load_manifest

CLOSE_JOB = "yecai_close_period"
REOPEN_JOB = "yecai_reopen_period"


class CloseConfig(dg.Config):
    period: str  # the month, YYYY-MM
    by: str  # who closes it (kept in audit.period_events)
    reason: str | None = None


class ReopenConfig(dg.Config):
    period: str
    by: str
    reason: str


@contextlib.contextmanager
def refusal_fails_the_run(metadata: dict | None = None) -> Iterator[None]:
    """A refused close or reopen fails the run with the refusal as its message (no retry:
    the month's state, not a transient error, refused it)."""
    try:
        yield
    except PeriodRefused as refused:
        raise dg.Failure(
            description=str(refused), metadata=metadata or {}, allow_retries=False
        ) from None


@dg.op(description="Close a month: refused unless every date of it was published.")
def close_month(
    context: dg.OpExecutionContext,
    config: CloseConfig,
    yecai: YecaiResource,
    build_db_lock: BuildDbLock,  # noqa: ARG001 - held for the run: a close writes the audit
) -> dg.Output[str]:
    with refusal_fails_the_run():
        window = month_window(parse_period(config.period))
    checked = {"dates checked": dg.MetadataValue.text(f"{window.start}..{window.end}")}
    with refusal_fails_the_run(checked):
        close = close_period(
            yecai.settings(),
            load_manifest(MANIFEST_PATH),
            config.period,
            config.by,
            config.reason,
            run_id=context.run.run_id,
        )
    [page] = write_month_end_reports(yecai.settings(), close.period)
    return dg.Output(
        close.event_id,
        metadata={
            **checked,
            "month-end report": dg.MetadataValue.path(str(page)),
            "checksums": dg.MetadataValue.json(
                {mart: {"rows": rows, "md5": md5} for mart, (rows, md5) in close.checksums.items()}
            ),
        },
    )


@dg.op(description="Reopen a closed month: its figures follow late data again.")
def reopen_month(
    context: dg.OpExecutionContext,
    config: ReopenConfig,
    yecai: YecaiResource,
    build_db_lock: BuildDbLock,  # noqa: ARG001 - held for the run: a reopen writes the audit
) -> dg.Output[str]:
    with refusal_fails_the_run():
        event = reopen_period(
            yecai.settings(), config.period, config.by, config.reason, run_id=context.run.run_id
        )
    return dg.Output(event)


def period_definitions() -> dg.Definitions:
    @dg.job(name=CLOSE_JOB, description="Close a month (config: period YYYY-MM, by, reason).")
    def close_job():
        close_month()

    @dg.job(name=REOPEN_JOB, description="Reopen a closed month (config: period, by, reason).")
    def reopen_job():
        reopen_month()

    return dg.Definitions(jobs=[close_job, reopen_job])
