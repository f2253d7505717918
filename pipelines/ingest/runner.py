"""Ingest a source's business dates from landing/ into the raw and quarantine lakes.

Per business date: every ready file (control file present) is checked and parsed; if any
file cannot be read the partition is left exactly as it was and the problem is reported;
otherwise the partition is replaced whole. Re-delivery is idempotent: a file already
loaded with the same sha256 is skipped, the same content under a second name is recorded
as a duplicate delivery, and a corrected file replaces only its own rows.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl

from pipelines.contracts import Contract, load_contract
from pipelines.crash_points import crash_point
from pipelines.ingest import audit, lake
from pipelines.ingest.frames import BUSINESS_DATE, FILE_ROW, SOURCE_FILE, ParsedBatch, ReadFile
from pipelines.ingest.identity_features import IdentityFeatures
from pipelines.ingest.keys import quarantine_repeated_keys
from pipelines.ingest.landing import FileProblem, LandedFile, read_control, scan_folder, sha256_hex
from pipelines.ingest.read import read_frame
from pipelines.ingest.rows import parse_rows
from pipelines.ingest.seeds import load_seeds
from pipelines.settings import Settings, duckdb_config

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


# Rows parsed together in one Polars query: enough to amortise the per-query cost over many
# small daily files (a day of one source is a few thousand rows), few enough to bound memory.
ROWS_PER_BATCH = 250_000
# Threads that read files and write partitions (Polars and hashlib release the GIL).
WORKERS = os.cpu_count() or 2


class _Partition:
    """The work on one (source, business date): which files to read, and what they hold."""

    def __init__(self, settings: Settings, contract: Contract, day: date, run_id: str):
        self.settings = settings
        self.contract = contract
        self.day = day
        self.run_id = run_id
        self.raw_dir = lake.partition_dir(settings.raw_lake, contract.source, day)
        self.quarantine_dir = lake.partition_dir(settings.quarantine_lake, contract.source, day)
        self.result = PartitionResult(contract.source, day)
        self.records: list[audit.FileRecord] = []
        self.read_files: dict[str, ReadFile] = {}  # by lake file name
        self.in_lake: set[str] = set()
        self.kept: set[str] = set()  # lake files kept as they are
        self.stale: set[str] = set()  # lake files to drop
        self.unchanged_reread: set[str] = set()  # unchanged files read again

    @property
    def rows(self) -> int:
        return sum(f.rows.height for f in self.read_files.values())

    @property
    def to_commit(self) -> bool:
        return bool(self.read_files or self.stale) and not self.result.problems

    def _candidates(
        self, delivered: dict[str, tuple], states: dict[str, audit.FileState]
    ) -> set[str]:
        """The files to load: every delivered file but duplicate deliveries. A file keeps
        being the duplicate it was recorded as while its content is unchanged; otherwise the
        first file with a content (a file already loaded with it, else by name) loads and
        the others are duplicates of it."""
        first_with: dict[str, str] = {}
        for name, (_, _, sha) in delivered.items():
            state = states.get(name)
            if state and state.status == audit.STATUS_LOADED and state.sha256 == sha:
                first_with.setdefault(sha, name)
        candidates = set()
        for name in sorted(delivered):
            landed, content, sha = delivered[name]
            state = states.get(name)
            if state and state.status == audit.STATUS_DUPLICATE and state.sha256 == sha:
                self.result.files_duplicate.append(name)  # recorded already
                continue
            twin = first_with.setdefault(sha, name)
            if twin == name:
                candidates.add(name)
                continue
            self.result.files_duplicate.append(name)
            self._record(
                landed,
                audit.STATUS_DUPLICATE,
                sha=sha,
                size=len(content),
                rows_read=0,
                rows_loaded=0,
                rows_quarantined=0,
                message=f"same content as {twin}, delivered for this date; skipped",
            )
        return candidates

    def fail_parse(self, read: ReadFile, error: Exception) -> None:
        """A file whose values no check foresaw (its parsing raised): the date stays as it
        was, the file is named (the error's text is not shown: it may quote a value)."""
        self._fail(
            read.landed,
            FileProblem(
                read.landed.path,
                f"could not be parsed ({type(error).__name__}): a column holds values of a "
                "kind the contract does not describe",
                "export the columns with the types the contract gives",
            ),
        )
        self.records = [r for r in self.records if r.status != audit.STATUS_LOADED]
        self.read_files = {}

    def _fail(self, landed: LandedFile, problem: FileProblem, **values) -> None:
        self.result.problems.append(problem)
        self._record(
            landed, audit.STATUS_FAILED, message=f"{problem.problem}. Fix: {problem.fix}", **values
        )

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

    def read(self, states: dict[str, audit.FileState]) -> None:
        """Decide what the date's delivery is and read it.

        The partition is a function of what landing holds: when any file of the date is
        new or changed, every file of the date is read again, so which file owns a key
        repeated across files (the first by name) never depends on the order files came
        in. A file with the same content as another is a duplicate delivery and stays one
        (of what it duplicated) while its content does not change. When nothing changed,
        nothing is read.
        """
        for folder in (self.raw_dir, self.quarantine_dir):
            lake.recover_partition(folder, folder.parents[1])
        scan = scan_folder(self.settings.landing, self.contract.source, self.day)
        self.result.files_waiting = [p.name for p in scan.waiting]
        self.in_lake = lake.existing_files(self.raw_dir)
        for problem in scan.problems:
            self._fail(LandedFile(self.contract.source, self.day, problem.path), problem)
        delivered = {}
        for landed in scan.ready:
            try:
                content = landed.path.read_bytes()
            except OSError as error:
                self._fail(
                    landed,
                    FileProblem(
                        landed.path,
                        f"cannot be read ({error.strerror})",
                        "make the file readable by yecai",
                    ),
                )
                continue
            delivered[landed.name] = (landed, content, sha256_hex(content))
        candidates = self._candidates(delivered, states)
        delivered_in_lake = {lake.lake_file_name(n) for n in delivered}
        # A lake file whose landing file is gone stays: landing may be purged, history not.
        self.kept = self.in_lake - delivered_in_lake
        # A lake file of a file that is now a duplicate delivery goes.
        self.stale = (self.in_lake & delivered_in_lake) - {
            lake.lake_file_name(n) for n in candidates
        }
        unchanged = not self.stale and all(
            (state := states.get(name)) is not None
            and state.status == audit.STATUS_LOADED
            and state.sha256 == delivered[name][2]
            and lake.lake_file_name(name) in self.in_lake
            for name in candidates
        )
        if unchanged and not scan.problems:
            self.result.files_unchanged = sorted(candidates)
            return
        for name in sorted(candidates):
            landed, content, sha = delivered[name]
            try:
                read = read_frame(landed, content, read_control(landed), self.contract)
            except FileProblem as problem:
                self._fail(landed, problem, sha=sha, size=len(content))
                continue
            self.read_files[lake.lake_file_name(name)] = read
            state = states.get(name)
            if state and state.status == audit.STATUS_LOADED and state.sha256 == sha:
                # Read again only to decide which file owns a repeated key: it keeps its
                # lake files, and its audit row, unless that changes what it holds.
                self.unchanged_reread.add(lake.lake_file_name(name))
            self._record(
                landed,
                audit.STATUS_LOADED,
                sha=sha,
                size=len(content),
                rows_read=read.rows.height,
                message="; ".join(read.warnings) or None,
            )
            for warning in read.warnings:
                log.warning("%s: %s", landed.path, warning)
        if self.result.problems:
            # The partition stays as it was: none of its files counts as loaded.
            self.records = [r for r in self.records if r.status != audit.STATUS_LOADED]
            self.read_files = {}

    def kept_keys(self) -> pl.DataFrame | None:
        """Keys of the files the lake keeps for this date (their landing file is gone): they
        own their keys before any delivered file."""
        kept = sorted(self.kept)
        if not kept or not self.read_files:
            return None
        columns = [*self.contract.primary_key, SOURCE_FILE]
        return pl.concat(
            [pl.read_parquet(self.raw_dir / name, columns=columns) for name in kept]
        ).with_columns(pl.lit(self.day).alias(BUSINESS_DATE))

    def commit(self, loaded: dict[tuple, pl.DataFrame], quarantined: dict[tuple, pl.DataFrame]):
        """Replace the partition: kept files as they are, the read files' rows. A file read
        again whose rows come out the same keeps its files as they were. A file with no
        quarantined rows has no quarantine file (most have none: fewer files to write)."""
        lake_schema = self.contract.lake_schema()
        new_raw = {
            name: loaded.get((self.day, read.landed.name), pl.DataFrame(schema=lake_schema))
            for name, read in self.read_files.items()
        }
        new_quarantine = {
            name: frame
            for name, read in self.read_files.items()
            if (frame := quarantined.get((self.day, read.landed.name))) is not None
        }
        in_quarantine = lake.existing_files(self.quarantine_dir)
        same = {
            name
            for name in self.unchanged_reread
            if _same_rows(self.raw_dir / name, new_raw[name])
            and _same_rows(self.quarantine_dir / name, new_quarantine.get(name))
        }
        keep = self.kept | same
        for name in same:
            del new_raw[name]
            new_quarantine.pop(name, None)
        if new_quarantine or in_quarantine - keep:
            lake.replace_partition(
                self.settings.quarantine_lake,
                self.quarantine_dir,
                new_quarantine,
                in_quarantine & keep,
            )
        lake.replace_partition(self.settings.raw_lake, self.raw_dir, new_raw, keep & self.in_lake)
        by_file = {lake.lake_file_name(r.file_name): r for r in self.records}
        for name, read in self.read_files.items():
            if name in same:
                del by_file[name]
                self.result.files_unchanged.append(read.landed.name)
                continue
            rows_loaded = new_raw[name].height
            rows_quarantined = new_quarantine[name].height if name in new_quarantine else 0
            by_file[name] = dataclasses.replace(
                by_file[name], rows_loaded=rows_loaded, rows_quarantined=rows_quarantined
            )
            self.result.files_loaded.append(read.landed.name)
            self.result.rows_read += read.rows.height
            self.result.rows_loaded += rows_loaded
            self.result.rows_quarantined += rows_quarantined
        self.records = list(by_file.values())


def _same_rows(path: Path, frame: pl.DataFrame | None) -> bool:
    """Whether a lake file holds exactly these rows (no file: no rows)."""
    if not path.exists():
        return frame is None or frame.is_empty()
    return frame is not None and pl.read_parquet(path).equals(frame)


def _by_file(frame: pl.DataFrame) -> dict[tuple, pl.DataFrame]:
    """(business date, file name) → that file's rows, without the batch's date column."""
    parts = frame.partition_by(BUSINESS_DATE, SOURCE_FILE, as_dict=True, maintain_order=True)
    return {key: part.drop(BUSINESS_DATE) for key, part in parts.items()}


def _parse_partitions(
    partitions: list[_Partition],
    contract: Contract,
    seeds: dict,
    pii_key: bytes,
    executor: ThreadPoolExecutor,
    identity: IdentityFeatures,
) -> None:
    """Parse every file read for these partitions in one query per schema, then commit each."""
    ready = [p for p in partitions if p.to_commit]
    if not ready:
        return
    parsed = _parse_files(ready, contract, seeds, pii_key, identity)
    ready = [p for p in ready if p.to_commit]  # a file that failed to parse fails its date
    identity.write()  # before the rows that show the tokens
    days = pl.Series([p.day for p in ready], dtype=pl.Date).implode()

    def of_ready(frames: list[pl.DataFrame], schema: dict) -> pl.DataFrame:
        frame = pl.concat(frames) if frames else _empty(schema)
        return frame.filter(pl.col(BUSINESS_DATE).is_in(days))

    batch = ParsedBatch(
        loaded=of_ready([p.loaded for p in parsed], contract.lake_schema()),
        quarantined=of_ready([p.quarantined for p in parsed], contract.quarantine_schema()),
    )
    kept = [keys for p in ready if (keys := p.kept_keys()) is not None]
    earlier = pl.concat(kept) if kept else None
    batch = quarantine_repeated_keys(batch, earlier, contract)
    loaded = _by_file(batch.loaded)
    quarantined = _by_file(batch.quarantined.sort(*FILE_ROW))
    list(executor.map(lambda partition: partition.commit(loaded, quarantined), ready))


def _empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema={BUSINESS_DATE: pl.Date, **schema})


def _parse_files(
    ready: list[_Partition],
    contract: Contract,
    seeds: dict,
    pii_key: bytes,
    identity: IdentityFeatures,
) -> list[ParsedBatch]:
    """Every read file parsed, files of one schema together. Should a query fail on input
    no check foresaw, each of its files is parsed alone, and a file that still fails fails
    its own date (with its name), never the whole source."""
    by_schema: dict[tuple, list[tuple[_Partition, ReadFile]]] = {}
    for partition in ready:
        for _, read in sorted(partition.read_files.items()):
            by_schema.setdefault(tuple(read.rows.schema.dtypes()), []).append((partition, read))
    parsed = []
    for group in by_schema.values():
        try:
            parsed.append(
                parse_rows(
                    pl.concat([r.rows for _, r in group]), contract, seeds, pii_key, identity
                )
            )
            continue
        except Exception:
            log.warning("a batch of %s files failed to parse; parsing them one by one", len(group))
        for partition, read in group:
            try:
                parsed.append(parse_rows(read.rows, contract, seeds, pii_key, identity))
            except Exception as error:
                partition.fail_parse(read, error)
    return parsed


def _read_in_order(
    partitions: Iterator[_Partition],
    states: dict[date, dict[str, audit.FileState]],
    executor: ThreadPoolExecutor,
    ahead: int,
) -> Iterator[_Partition]:
    """Each partition once its files are read, in order; up to ``ahead`` read at once."""
    queue: deque[tuple[Future, _Partition]] = deque()
    upcoming = partitions

    def submit() -> None:
        partition = next(upcoming, None)
        if partition is not None:
            queue.append(
                (executor.submit(partition.read, states.get(partition.day, {})), partition)
            )

    for _ in range(ahead):
        submit()
    while queue:
        future, partition = queue.popleft()
        future.result()
        submit()
        yield partition


def ingest_source(
    settings: Settings,
    source: str,
    days: list[date],
    pii_key: bytes,
    run_id: str,
) -> list[PartitionResult]:
    """Ingest each business date of one source; raise IngestFailed after all were tried.

    Dates are read one by one and parsed in batches of about ROWS_PER_BATCH rows; each
    date's partition is still replaced on its own, and a date with an unreadable file is
    left as it was.
    """
    contract = load_contract(source)
    seeds = load_seeds()
    settings.warehouse.mkdir(parents=True, exist_ok=True)
    results: list[PartitionResult] = []
    with (
        duckdb.connect(str(settings.build_db), config=duckdb_config()) as con,
        ThreadPoolExecutor(max_workers=WORKERS) as executor,
    ):
        audit.ensure_tables(con)
        audit.check_pii_key(con, pii_key, str(settings.home))
        states: dict[date, dict[str, audit.FileState]] = {}
        if days:
            for (day, name), state in audit.file_states(con, source, min(days), max(days)).items():
                states.setdefault(day, {})[name] = state
        pending: list[_Partition] = []
        identity = IdentityFeatures(settings.lake, pii_key)

        def flush() -> None:
            crash_point("ingest.read")
            _parse_partitions(pending, contract, seeds, pii_key, executor, identity)
            crash_point("ingest.committed")  # the lake has the rows, the audit not yet
            audit.record(con, [r for p in pending for r in p.records])
            crash_point("ingest.audited")
            results.extend(p.result for p in pending)
            pending.clear()  # and with it the rows read: memory stays one batch

        partitions = (_Partition(settings, contract, day, run_id) for day in days)
        for partition in _read_in_order(partitions, states, executor, ahead=2 * WORKERS):
            pending.append(partition)
            if sum(p.rows for p in pending) >= ROWS_PER_BATCH:
                flush()
        flush()
    problems = [p for r in results for p in r.problems]
    if problems:
        raise IngestFailed(source, problems, results)
    return results
