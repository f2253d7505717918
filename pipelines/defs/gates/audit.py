"""The weekly full-history audit as a Dagster job (also launchable from the UI, with an
optional range of business dates as config): the same engine as ``yecai audit``."""

from datetime import date

import dagster as dg

from pipelines.defs.resources import BuildDbLock, YecaiResource
from pipelines.gates.audit import run_audit
from pipelines.gates.window import Window
from pipelines.settings import BUSINESS_TIMEZONE

AUDIT_JOB = "yecai_audit"
AUDIT_SCHEDULE = "yecai_weekly_audit"
AUDIT_CRON = "0 4 * * 0"  # Sundays 04:00 Asia/Shanghai, after that night's run


class AuditConfig(dg.Config):
    start: str | None = None  # first business date, YYYY-MM-DD; default: everything
    end: str | None = None


@dg.op(description="Every gate suite over every row (or the configured dates).")
def full_history_audit(
    context: dg.OpExecutionContext,
    config: AuditConfig,
    yecai: YecaiResource,
    build_db_lock: BuildDbLock,  # noqa: ARG001 - held for the run: the audit writes history
) -> dg.Output[int]:
    first = date.fromisoformat(config.start) if config.start else None
    last = date.fromisoformat(config.end) if config.end else first
    window = Window(first, last) if first and last else Window.everything()
    audit = run_audit(yecai.settings(), window, context.run.run_id)
    metadata = {
        "suites": dg.MetadataValue.int(audit.suites),
        "failed error gates": dg.MetadataValue.json(audit.failed),
        "warnings": dg.MetadataValue.json(audit.warnings),
    }
    if not audit.passed:
        raise dg.Failure(
            description=f"{len(audit.failed)} error gate(s) failed the audit: "
            + "; ".join(audit.failed),
            metadata=metadata,
        )
    return dg.Output(audit.suites, metadata=metadata)


def audit_definitions() -> dg.Definitions:
    @dg.job(name=AUDIT_JOB, description="Every gate suite over the whole warehouse.")
    def audit_job():
        full_history_audit()

    schedule = dg.ScheduleDefinition(
        name=AUDIT_SCHEDULE,
        job=audit_job,
        cron_schedule=AUDIT_CRON,
        execution_timezone=BUSINESS_TIMEZONE,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Sundays 04:00 Asia/Shanghai: every gate suite over all history.",
    )
    return dg.Definitions(jobs=[audit_job], schedules=[schedule])
