"""Ingest a source's business dates from landing/ into the raw and quarantine lakes.

Per business date: every ready file (control file present) is checked and parsed; if any
file cannot be read the partition is left exactly as it was and the problem is reported;
otherwise the partition is replaced whole. Re-delivery is idempotent: a file already
loaded with the same sha256 is skipped, the same content under a second name is recorded
as a duplicate delivery, and a corrected file replaces only its own rows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import duckdb
import polars as pl

from pipelines.contracts import Contract, load_contract
from pipelines.ingest import audit, lake
from pipelines.ingest.landing import FileProblem, LandedFile, read_control, ready_files, sha256_hex
from pipelines.ingest.parse import (
    SOURCE_FILE,
    ParsedFile,
    parse_rows,
    quarantine_repeated_keys,
    read_frame,
)
from pipelines.ingest.seeds import load_seeds
from pipelines.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class PartitionResult:
    source: str
    business_date: date
    files_loaded: list[str] = field(default_factory=list)
    files_unchanged: list[str] = field(default_factory=list)
    files_duplicate: list[str] = field(default_factory=list)
    files_waiting: list[str] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0

    @property
    def delivered(self) -> bool:
        return bool(
            self.files_loaded or self.files_unchanged or self.files_duplicate or self.problems
        )


class IngestFailed(Exception):
    """Some business dates could not be ingested; everything else was."""

    def __init__(self, source: str, problems: list[FileProblem], results: list[PartitionResult]):
        self.source = source
        self.problems = problems
        self.results = results
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"{len(problems)} {source} file(s) could not be ingested; those business dates "
            f"keep what was loaded before:\n{lines}"
        )


def _keys_of(paths: Iterable, contract: Contract) -> pl.DataFrame:
    columns = [*contract.primary_key, SOURCE_FILE]
    frames = [pl.read_parquet(path, columns=columns) for path in paths]
    return pl.concat(frames) if frames else pl.DataFrame()


class _Partition:
    """The work on one (source, business date)."""

    def __init__(self, settings: Settings, contract: Contract, day: date, run_id: str):
        self.settings = settings
        self.contract = contract
        self.day = day
        self.run_id = run_id
        self.raw_dir = lake.partition_dir(settings.raw_lake, contract.source, day)
        self.quarantine_dir = lake.partition_dir(settings.quarantine_lake, contract.source, day)
        self.result = PartitionResult(contract.source, day)
        self.records: list[audit.FileRecord] = []

    def _record(self, landed: LandedFile, status: str, **values) -> None:
        self.records.append(
            audit.FileRecord(
                source=self.contract.source,
                business_date=self.day,
                file_name=landed.name,
                file_sha256=values.get("sha"),
                file_size_bytes=values.get("size"),
                rows_read=values.get("rows_read"),
                rows_loaded=values.get("rows_loaded"),
                rows_quarantined=values.get("rows_quarantined"),
                status=status,
                message=values.get("message"),
                contract_version=self.contract.version,
                run_id=self.run_id,
                ingested_at=datetime.now(UTC),
            )
        )

    def run(self, loaded: dict[str, str], seeds: dict, pii_key: bytes) -> None:
        for folder in (self.raw_dir, self.quarantine_dir):
            lake.recover_partition(folder, folder.parents[1])
        ready, waiting = ready_files(self.settings.landing, self.contract.source, self.day)
        self.result.files_waiting = [p.name for p in waiting]
        in_lake = lake.existing_files(self.raw_dir)
        parsed_files: dict[str, ParsedFile] = {}
        seen_shas = {sha: name for name, sha in loaded.items()}
        for landed in ready:
            content = landed.path.read_bytes()
            sha = sha256_hex(content)
            lake_name = lake.lake_file_name(landed.name)
            if loaded.get(landed.name) == sha and lake_name in in_lake:
                self.result.files_unchanged.append(landed.name)
                continue
            twin = seen_shas.get(sha)
            if twin is not None and twin != landed.name:
                self.result.files_duplicate.append(landed.name)
                self._record(
                    landed,
                    audit.STATUS_DUPLICATE,
                    sha=sha,
                    size=len(content),
                    rows_read=0,
                    rows_loaded=0,
                    rows_quarantined=0,
                    message=f"same content as {twin}, already delivered for this date; skipped",
                )
                continue
            seen_shas[sha] = landed.name
            try:
                frame = read_frame(landed, content, read_control(landed))
                parsed = parse_rows(landed, frame, self.contract, seeds, pii_key)
            except FileProblem as problem:
                self.result.problems.append(problem)
                self._record(
                    landed,
                    audit.STATUS_FAILED,
                    sha=sha,
                    size=len(content),
                    message=f"{problem.problem}. Fix: {problem.fix}",
                )
                continue
            parsed_files[lake_name] = parsed
            self._record(
                landed,
                audit.STATUS_LOADED,
                sha=sha,
                size=len(content),
                rows_read=parsed.rows_read,
                message="; ".join(parsed.warnings) or None,
            )
            for warning in parsed.warnings:
                log.warning("%s: %s", landed.path, warning)
        if self.result.problems or not parsed_files:
            self.records = [r for r in self.records if r.status != audit.STATUS_LOADED]
            return
        self._commit(in_lake, parsed_files)

    def _commit(self, in_lake: set[str], parsed_files: dict[str, ParsedFile]) -> None:
        kept = in_lake - set(parsed_files)
        seen = _keys_of((self.raw_dir / name for name in sorted(kept)), self.contract)
        for name in sorted(parsed_files):
            parsed = quarantine_repeated_keys(parsed_files[name], seen, self.contract)
            parsed_files[name] = parsed
            keys = parsed.loaded.select(*self.contract.primary_key, SOURCE_FILE)
            seen = pl.concat([seen, keys]) if not seen.is_empty() else keys
        kept_quarantine = lake.existing_files(self.quarantine_dir) - set(parsed_files)
        lake.replace_partition(
            self.settings.quarantine_lake,
            self.quarantine_dir,
            {name: p.quarantined for name, p in parsed_files.items()},
            kept_quarantine,
        )
        lake.replace_partition(
            self.settings.raw_lake,
            self.raw_dir,
            {name: p.loaded for name, p in parsed_files.items()},
            kept,
        )
        by_file = {lake.lake_file_name(r.file_name): r for r in self.records}
        for name, parsed in parsed_files.items():
            record = by_file[name]
            by_file[name] = audit.FileRecord(
                **{
                    **record.__dict__,
                    "rows_loaded": parsed.loaded.height,
                    "rows_quarantined": parsed.quarantined.height,
                }
            )
            self.result.files_loaded.append(record.file_name)
            self.result.rows_read += parsed.rows_read
            self.result.rows_loaded += parsed.loaded.height
            self.result.rows_quarantined += parsed.quarantined.height
        self.records = list(by_file.values())


def ingest_source(
    settings: Settings,
    source: str,
    days: list[date],
    pii_key: bytes,
    run_id: str,
) -> list[PartitionResult]:
    """Ingest each business date of one source; raise IngestFailed after all were tried."""
    contract = load_contract(source)
    seeds = load_seeds()
    settings.warehouse.mkdir(parents=True, exist_ok=True)
    results: list[PartitionResult] = []
    with duckdb.connect(str(settings.build_db)) as con:
        audit.ensure_tables(con)
        loaded = audit.loaded_files(con, source, min(days), max(days)) if days else {}
        for day in days:
            partition = _Partition(settings, contract, day, run_id)
            partition.run(
                {name: sha for (d, name), sha in loaded.items() if d == day}, seeds, pii_key
            )
            audit.record(con, partition.records)
            results.append(partition.result)
    problems = [p for r in results for p in r.problems]
    if problems:
        raise IngestFailed(source, problems, results)
    return results
