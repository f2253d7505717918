"""The published marts: the one file analysts read, replaced only after every gate passed."""

import dagster as dg

from pipelines.defs.automation.partitions import window_days
from pipelines.defs.gates.checks import required_gates
from pipelines.defs.resources import BuildDbLock, YecaiResource
from pipelines.defs.retry import retry_if_transient
from pipelines.gates.window import Window
from pipelines.publish.marts_file import mart_descriptions, publish
from pipelines.publish.month_end import write_month_end_reports
from pipelines.publish.pending import clear_published, gated_window, publication_changes
from pipelines.publish.report import days_to_report, write_daily_reports
from pipelines.runs.summary import PUBLISHED_MARTS
from pipelines.transform.dbt_project import MANIFEST_PATH
from pipelines.transform.manifest import load_manifest

DAILY_REPORT = dg.AssetKey(["reports", "daily"])


def _evaluations(context: dg.AssetExecutionContext) -> list:
    records = context.instance.get_records_for_run(
        context.run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    return [record.event_log_entry.dagster_event.event_specific_data for record in records]


def gates_not_passed(context: dg.AssetExecutionContext) -> list[dg.AssetCheckKey]:
    """The error gates that did not let the marts out in this run (failed, or not run).

    Dagster skips a step when a blocking check fails in the same run, but not when the
    step is launched alone or by automation (dagster #25112, #17332): publishing asks."""
    released = {
        e.asset_check_key: e.passed or e.severity == dg.AssetCheckSeverity.WARN
        for e in _evaluations(context)
    }
    return [key for key in required_gates() if not released.get(key, False)]


def gate_summary(context: dg.AssetExecutionContext) -> str:
    """One line for the report: which warnings this run's gates raised."""
    warnings = sorted(
        f"{e.check_name} on {e.asset_key.path[-1]}"
        for e in _evaluations(context)
        if not e.passed and e.severity == dg.AssetCheckSeverity.WARN
    )
    return "All error gates passed" + (
        f"; warnings: {', '.join(warnings)}." if warnings else "; no warnings."
    )


def publish_definitions(partitions: dg.PartitionsDefinition) -> dg.Definitions:
    @dg.asset(
        key=PUBLISHED_MARTS,
        deps=sorted({key.asset_key for key in required_gates()}, key=str),
        group_name="published",
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds={"duckdb"},
        description=(
            "warehouse/marts.duckdb, read-only for analysts: replaced atomically, and only "
            "when every blocking gate passed in this run."
        ),
    )
    def published_marts(
        context: dg.AssetExecutionContext,
        yecai: YecaiResource,
        build_db_lock: BuildDbLock,  # noqa: ARG001 - held for the run
    ):
        missing = gates_not_passed(context)
        if missing:
            names = ", ".join(key.name for key in missing)
            raise dg.Failure(
                description=(
                    f"not publishing: gate(s) {names} did not pass in this run; marts.duckdb "
                    "is unchanged. Run the whole job (yecai run) to evaluate the gates."
                ),
                allow_retries=False,
            )
        settings = yecai.settings()
        days = window_days(context)
        window = gated_window(settings.build_db, Window(days[0], days[-1]))
        with retry_if_transient(context):
            manifest = load_manifest(MANIFEST_PATH)
            changes = publication_changes(settings.build_db, settings.marts_db, manifest, window)
            publication = publish(
                settings.build_db, settings.marts_db, changes, mart_descriptions(manifest)
            )
            clear_published(settings.build_db, settings.marts_db, context.run.run_id, window)
        if publication.stale_wal_removed:
            context.log.warning(
                f"removed {settings.marts_db.name}.wal, left by a session that opened the "
                "published file read-write: changes made to the published file are not kept "
                "(it is replaced by each publication); open it read-only"
            )
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(publication.path)),
                "tables": dg.MetadataValue.json(publication.tables),
                "patched": dg.MetadataValue.json(list(publication.patched)),
            }
        )

    @dg.asset(
        key=DAILY_REPORT,
        deps=[PUBLISHED_MARTS],
        group_name="reports",
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds={"html"},
        description="reports/daily/<date>.html for the last 31 days published: the "
        "business-finance daily report (业财日报); `yecai report` writes any other date. "
        "And reports/month_end/<YYYY-MM>.html for every month closed (月结报告).",
    )
    def daily_report(context: dg.AssetExecutionContext, yecai: YecaiResource):
        settings = yecai.settings()
        paths = write_daily_reports(
            settings.marts_db,
            settings.reports,
            days_to_report(window_days(context)),
            gate_summary(context),
        )
        # A closed month's page lists the late data since its close: it may have changed.
        month_end = write_month_end_reports(settings)
        return dg.MaterializeResult(
            metadata={
                "reports": dg.MetadataValue.int(len(paths)),
                "latest": dg.MetadataValue.path(str(paths[-1])),
                "month-end pages": dg.MetadataValue.int(len(month_end)),
            }
        )

    return dg.Definitions(assets=[published_marts, daily_report])
