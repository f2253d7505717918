"""What starts the main job unattended, and what reports when it fails.

The nightly run at 02:00 Asia/Shanghai loads yesterday. A file that arrives after the
nightly run of its business date (late, or re-delivered with new content) is the
sensor's: it requests exactly the dates such files belong to, once per file version, and
never for a version ingestion has already handled (audit.ingest_files).
A failed run, however it was started, gets a line in logs/failed-runs.log saying what
failed and how to re-run it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb

from pipelines.defs.resources import YecaiResource
from pipelines.ingest.audit import audited_versions
from pipelines.ingest.landing import FileProblem, read_control, scan_folder
from pipelines.library_patches.dagster_run_tags import BACKFILL_TAG
from pipelines.runs.abandoned import fail_abandoned_runs
from pipelines.runs.summary import failure_lines, record_failed_run
from pipelines.runs.tags import LAUNCHED_BY_TAG, tagged_window, window_tags
from pipelines.settings import BUSINESS_TIMEZONE, SOURCES, duckdb_config
from pipelines.warehouse_lock import lock_if_free

NIGHTLY_HOUR = 2  # 02:00 Asia/Shanghai, for yesterday
SCHEDULE_NAME = "yecai_nightly"
SENSOR_NAME = "yecai_late_files"
SENSOR_INTERVAL_SECONDS = 60
FAILED_RUNS_SENSOR = "yecai_failed_runs"
ABANDONED_RUNS_SENSOR = "yecai_abandoned_runs"


def nightly_schedule(job: dg.UnresolvedAssetJobDefinition) -> dg.ScheduleDefinition:
    # Built from the partitioned job so that every tick carries its partition (yesterday);
    # the timezone is the partitions' (Asia/Shanghai).
    return dg.build_schedule_from_partitioned_job(
        job,
        name=SCHEDULE_NAME,
        hour_of_day=NIGHTLY_HOUR,
        minute_of_hour=0,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Every night at 02:00 Asia/Shanghai: ingest, build, gate and publish "
        "yesterday.",
    )


@dataclass(frozen=True)
class FileVersion:
    """A delivered file as its control file describes it."""

    source: str
    business_date: date
    name: str
    sha256: str
    control_mtime_ns: int

    @property
    def key(self) -> str:
        return f"{self.source}/{self.business_date}/{self.name}"

    @property
    def audited_as(self) -> tuple[str, date, str, str]:
        """As audit.ingest_files records it once ingestion has handled this version."""
        return (self.source, self.business_date, self.name, self.sha256)


def loaded_versions(build_db: Path) -> set[tuple[str, date, str, str]]:
    """The file versions ingestion has already handled: a run would change nothing for them
    (a demo generated again, a copy touched again, the same file re-sent)."""
    if not build_db.exists():
        return set()
    with duckdb.connect(str(build_db), read_only=True, config=duckdb_config()) as con:
        return audited_versions(con)


def delivered_versions(landing: Path) -> list[FileVersion]:
    """Every file in landing/ whose control file has arrived (a file without one may still
    be copying). The control file carries the content's sha256: no data file is read."""
    versions = []
    for source in SOURCES:
        folders = (landing / source).iterdir() if (landing / source).is_dir() else []
        for folder in folders:
            try:
                day = date.fromisoformat(folder.name)
            except ValueError:
                continue  # not a business-date folder
            for landed in scan_folder(landing, source, day).ready:
                try:
                    control = read_control(landed)
                    mtime = landed.control_path.stat().st_mtime_ns
                except (FileProblem, OSError):
                    continue  # a control file being written: next tick
                versions.append(FileVersion(source, day, landed.name, control.sha256, mtime))
    return versions


@dataclass
class LandingCursor:
    """Control files up to ``watermark_ns`` (by mtime) are handled; ``at_watermark`` lists
    those written in that same instant, so a file landing in it is not missed."""

    watermark_ns: int
    at_watermark: list[str]

    @classmethod
    def parse(cls, text: str | None) -> LandingCursor | None:
        if not text:
            return None
        raw = json.loads(text)
        return cls(int(raw["watermark_ns"]), list(raw["at_watermark"]))

    def dump(self) -> str:
        return json.dumps({"watermark_ns": self.watermark_ns, "at_watermark": self.at_watermark})

    def is_new(self, version: FileVersion) -> bool:
        marker = f"{version.key}@{version.sha256}"
        return version.control_mtime_ns > self.watermark_ns or (
            version.control_mtime_ns == self.watermark_ns and marker not in self.at_watermark
        )

    @classmethod
    def after(cls, versions: list[FileVersion], previous: LandingCursor | None) -> LandingCursor:
        if not versions:
            return previous or cls(0, [])
        newest = max(v.control_mtime_ns for v in versions)
        if previous is not None and previous.watermark_ns > newest:
            return previous
        at = sorted(f"{v.key}@{v.sha256}" for v in versions if v.control_mtime_ns == newest)
        if previous is not None and previous.watermark_ns == newest:
            at = sorted({*previous.at_watermark, *at})
        return cls(newest, at)


def nightly_done(day: date, now: datetime) -> bool:
    """Has the nightly run of this business date had its turn (the next day, 02:00)?"""
    tz = ZoneInfo(BUSINESS_TIMEZONE)
    return now.astimezone(tz) >= datetime.combine(day + timedelta(days=1), time(NIGHTLY_HOUR), tz)


def date_ranges(days: set[date]) -> list[tuple[date, date]]:
    """Consecutive dates as (first, last) ranges: one run each."""
    ranges: list[tuple[date, date]] = []
    for day in sorted(days):
        if ranges and ranges[-1][1] + timedelta(days=1) == day:
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def late_file_requests(
    versions: list[FileVersion], cursor: LandingCursor, first_date: date, now: datetime
) -> tuple[list[dg.RunRequest], list[str]]:
    """Run requests for the new file versions whose date's nightly run has passed, and a
    line for each new file left to the nightly run or outside the partitions."""
    late: dict[date, list[FileVersion]] = {}
    notes = []
    for version in (v for v in versions if cursor.is_new(v)):
        if version.business_date < first_date:
            notes.append(f"{version.key}: before the first partition {first_date}, not loaded")
        elif not nightly_done(version.business_date, now):
            notes.append(f"{version.key}: on time, the nightly run loads it")
        else:
            late.setdefault(version.business_date, []).append(version)
    requests = []
    for first, last in date_ranges(set(late)):
        files = sorted(
            f"{v.key}@{v.sha256}"
            for day, day_versions in late.items()
            if first <= day <= last
            for v in day_versions
        )
        requests.append(
            dg.RunRequest(
                # One run per set of file versions: a version is never loaded twice by us.
                run_key=hashlib.sha256("\n".join(files).encode()).hexdigest()[:32],
                tags={
                    **window_tags(first, last),
                    LAUNCHED_BY_TAG: SENSOR_NAME,
                    "yecai/late_files": str(len(files)),
                },
            )
        )
    return requests, notes


def late_file_sensor(job: dg.UnresolvedAssetJobDefinition) -> dg.SensorDefinition:
    @dg.sensor(
        name=SENSOR_NAME,
        job=job,
        minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Re-runs the business dates of files delivered to landing/ after their "
        "nightly run (late or corrected), once per file version.",
    )
    def yecai_late_files(context: dg.SensorEvaluationContext, yecai: YecaiResource):
        settings = yecai.settings()
        versions = delivered_versions(settings.landing)
        cursor = LandingCursor.parse(context.cursor)
        if cursor is None:
            # First tick: what is already there is the schedule's or a backfill's.
            context.update_cursor(LandingCursor.after(versions, cursor).dump())
            return dg.SkipReason(
                f"watching {settings.landing} from now on ({len(versions)} files already there)"
            )
        new = [v for v in versions if cursor.is_new(v)]
        if not new:
            return dg.SkipReason("no late or re-delivered file")
        with lock_if_free(settings.warehouse, "the late-files sensor") as writer:
            if writer is not None:  # the cursor stays: these files are looked at next tick
                return dg.SkipReason(f"{writer} is writing build.duckdb: files wait a tick")
            loaded = loaded_versions(settings.build_db)
        context.update_cursor(LandingCursor.after(versions, cursor).dump())
        requests, notes = late_file_requests(
            [v for v in new if v.audited_as not in loaded],
            cursor,
            settings.start_date,
            datetime.now(ZoneInfo(BUSINESS_TIMEZONE)),
        )
        notes += [
            f"{v.key}: already ingested with this content, nothing to run"
            for v in new
            if v.audited_as in loaded
        ]
        for note in notes:
            context.log.info(note)
        return requests or dg.SkipReason("no late or re-delivered file")

    return yecai_late_files


def failed_run_sensor() -> dg.SensorDefinition:
    @dg.run_failure_sensor(
        name=FAILED_RUNS_SENSOR,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Writes what failed in a run, and how to re-run it, to "
        "logs/failed-runs.log of the home.",
    )
    def yecai_failed_runs(context: dg.RunFailureSensorContext, yecai: YecaiResource):
        run = context.dagster_run
        events = [
            entry.dagster_event
            for entry in context.instance.all_logs(run.run_id)
            if entry.dagster_event is not None
        ]
        _, lines = failure_lines(events)
        settings = yecai.settings()
        message = record_failed_run(
            settings.logs,
            settings.home,
            run.run_id,
            run.tags.get(LAUNCHED_BY_TAG) or run.tags.get(BACKFILL_TAG) or "ui",
            tagged_window(run.tags),
            lines,
            context.failure_event.message,
        )
        context.log.error(message)

    return yecai_failed_runs


def abandoned_run_sensor() -> dg.SensorDefinition:
    @dg.sensor(
        name=ABANDONED_RUNS_SENSOR,
        minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Marks failed a started run whose process died (killed, out of memory, a "
        "power cut), so it does not hold the run queue; yecai_failed_runs then reports it.",
    )
    def yecai_abandoned_runs(context: dg.SensorEvaluationContext, yecai: YecaiResource):
        dead = fail_abandoned_runs(context.instance, yecai.settings().warehouse)
        return dg.SkipReason(
            f"marked failed: {', '.join(dead)}" if dead else "no started run has died"
        )

    return yecai_abandoned_runs
