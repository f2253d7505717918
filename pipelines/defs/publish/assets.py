"""The published marts: the one file analysts read, replaced only after every gate passed."""

import dagster as dg

from pipelines.defs.gates.checks import required_gates
from pipelines.defs.publish.marts_file import publish
from pipelines.defs.resources import YecaiResource

PUBLISHED_MARTS = dg.AssetKey(["published", "marts"])


class GateNotPassed(Exception):
    pass


def _gate_evaluations(context: dg.AssetExecutionContext) -> dict[dg.AssetCheckKey, bool]:
    records = context.instance.get_records_for_run(
        context.run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    passed: dict[dg.AssetCheckKey, bool] = {}
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        passed[evaluation.asset_check_key] = evaluation.passed
    return passed


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
    def published_marts(context: dg.AssetExecutionContext, yecai: YecaiResource):
        # Dagster skips this step when a blocking check fails in the same run, but not when
        # it is launched alone or by automation: check the gates here too.
        evaluations = _gate_evaluations(context)
        missing = [key for key in required_gates() if not evaluations.get(key, False)]
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
        publication = publish(settings.build_db, settings.marts_db)
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(publication.path)),
                "tables": dg.MetadataValue.json(publication.tables),
            }
        )

    return dg.Definitions(assets=[published_marts])
