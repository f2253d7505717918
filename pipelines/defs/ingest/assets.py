"""Raw assets: one per source, ingesting landing files into the raw and quarantine lakes."""

import dagster as dg

from pipelines.contracts import load_contract
from pipelines.defs.automation.partitions import window_days
from pipelines.defs.resources import BuildDbLock, YecaiResource
from pipelines.defs.retry import retry_if_transient
from pipelines.ingest.runner import IngestFailed, PartitionResult, ingest_source
from pipelines.pii import PiiKeyMismatch, resolve_key
from pipelines.runs.summary import BAD_INPUT_TAG
from pipelines.settings import SOURCES


def _summary(results: list[PartitionResult]) -> dict[str, dg.MetadataValue]:
    missing = [r.business_date.isoformat() for r in results if not r.delivered]
    waiting = sorted({f for r in results for f in r.files_waiting})
    return {
        "rows_read": dg.MetadataValue.int(sum(r.rows_read for r in results)),
        "rows_loaded": dg.MetadataValue.int(sum(r.rows_loaded for r in results)),
        "rows_quarantined": dg.MetadataValue.int(sum(r.rows_quarantined for r in results)),
        "files_loaded": dg.MetadataValue.int(sum(len(r.files_loaded) for r in results)),
        "files_unchanged": dg.MetadataValue.int(sum(len(r.files_unchanged) for r in results)),
        "duplicate_deliveries": dg.MetadataValue.json(
            sorted({f for r in results for f in r.files_duplicate})
        ),
        "days_without_delivery": dg.MetadataValue.json(missing),
        "files_without_control_file": dg.MetadataValue.json(waiting),
    }


def build_ingest_asset(source: str, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    contract = load_contract(source)

    @dg.multi_asset(
        name=f"ingest_{source}",
        specs=[
            dg.AssetSpec(
                ["raw", source],
                group_name="raw",
                description=(
                    f"{source} rows loaded into lake/raw/{source}: typed by the contract "
                    f"{contract.path.name}, personal data tokenised."
                ),
                kinds={"parquet", "polars"},
                owners=[f"team:{contract.owner}"] if contract.owner else [],
            ),
            dg.AssetSpec(
                ["quarantine", source],
                group_name="raw",
                description=f"{source} rows that broke a contract rule, with the reason.",
                kinds={"parquet"},
            ),
        ],
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def ingest(
        context: dg.AssetExecutionContext,
        yecai: YecaiResource,
        build_db_lock: BuildDbLock,  # noqa: ARG001 - held for the run
    ):
        settings = yecai.settings()
        days = window_days(context)
        try:
            with retry_if_transient(context):
                results = ingest_source(
                    settings, source, days, resolve_key(settings.demo), context.run.run_id
                )
        except PiiKeyMismatch as mismatch:
            raise dg.Failure(
                description=str(mismatch), metadata={BAD_INPUT_TAG: True}, allow_retries=False
            ) from None
        except IngestFailed as failed:
            raise dg.Failure(
                description=str(failed),
                metadata={
                    BAD_INPUT_TAG: True,
                    "files": dg.MetadataValue.json([str(p.path) for p in failed.problems]),
                    **_summary(failed.results),
                },
                allow_retries=False,
            ) from None
        summary = _summary(results)
        for result in results:
            if not result.delivered:
                context.log.warning(
                    f"no {source} delivery for {result.business_date}: nothing in "
                    f"landing/{source}/{result.business_date}/ has a control file yet"
                )
        yield dg.MaterializeResult(asset_key=["raw", source], metadata=summary)
        yield dg.MaterializeResult(
            asset_key=["quarantine", source],
            metadata={"rows_quarantined": summary["rows_quarantined"]},
        )

    return ingest


def ingest_definitions(partitions: dg.PartitionsDefinition) -> dg.Definitions:
    return dg.Definitions(assets=[build_ingest_asset(source, partitions) for source in SOURCES])
