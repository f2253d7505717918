"""The nightly schedule and the late-file sensor, evaluated as the Dagster daemon does."""

import fcntl
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from pipelines.defs import build_definitions
from pipelines.defs.automation.triggers import SCHEDULE_NAME, SENSOR_NAME
from pipelines.defs.resources import YecaiResource
from pipelines.settings import BUSINESS_TIMEZONE, Settings
from pipelines.warehouse_lock import lock_path
from tests.unit.test_ingest import csv_bytes, deliver, ingest, sale

SHANGHAI = ZoneInfo(BUSINESS_TIMEZONE)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(home=tmp_path / "home", start_date=date(2024, 1, 1))


@pytest.fixture(scope="module")
def instance():
    # One for the module: Dagster keeps a reference to the instance definitions load with.
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture
def defs(dbt_manifest, settings, instance) -> dg.Definitions:
    return build_definitions(settings)


@pytest.mark.parametrize(
    ("tick", "partition"),
    [
        (datetime(2024, 3, 2, 2, 0, tzinfo=SHANGHAI), "2024-03-01"),
        # 18:00 UTC is 02:00 the next morning in Shanghai.
        (datetime(2024, 12, 31, 18, 0, tzinfo=ZoneInfo("UTC")), "2024-12-31"),
    ],
)
def test_the_nightly_tick_runs_yesterday(defs, instance, tick, partition):
    schedule = defs.resolve_schedule_def(SCHEDULE_NAME)
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == BUSINESS_TIMEZONE
    context = dg.build_schedule_context(instance=instance, scheduled_execution_time=tick)
    [request] = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == partition


class LandingSensor:
    """Evaluates the sensor tick after tick, carrying its cursor like the daemon."""

    def __init__(self, defs: dg.Definitions, settings: Settings, instance: dg.DagsterInstance):
        self.instance = instance
        self.sensor = defs.resolve_sensor_def(SENSOR_NAME)
        self.settings = settings
        self.cursor: str | None = None

    def tick(self) -> list[dg.RunRequest]:
        context = dg.build_sensor_context(
            instance=self.instance,
            cursor=self.cursor,
            resources={"yecai": YecaiResource.from_settings(self.settings)},
        )
        result = self.sensor.evaluate_tick(context)
        self.cursor = result.cursor
        return list(result.run_requests or [])


def _window(request: dg.RunRequest) -> tuple[str, str]:
    return request.tags[ASSET_PARTITION_RANGE_START_TAG], request.tags[
        ASSET_PARTITION_RANGE_END_TAG
    ]


def _deliver(settings: Settings, day: date, name: str = "pos.csv", price: str = "99.00") -> None:
    content = csv_bytes([sale(order_ts=f"{day}T10:00:00+08:00", unit_price=price)])
    deliver(settings, name, content, day=day)


def test_late_and_redelivered_files_request_their_dates_once(defs, settings, instance):
    sensor = LandingSensor(defs, settings, instance)
    _deliver(settings, date(2024, 3, 1))
    assert sensor.tick() == []  # what was there before the sensor is the schedule's

    _deliver(settings, date(2024, 3, 5), "late.csv")
    [request] = sensor.tick()
    assert _window(request) == ("2024-03-05", "2024-03-05")
    assert sensor.tick() == []  # the same file version again: nothing

    _deliver(settings, date(2024, 3, 5), "late.csv", price="98.00")  # corrected content
    [again] = sensor.tick()
    assert _window(again) == ("2024-03-05", "2024-03-05")
    assert again.run_key != request.run_key


def test_files_ingested_with_the_same_content_are_no_reason_to_run(defs, settings, instance):
    """The demo run again, then the UI started: every file is written anew (new control
    files) with the content already loaded. Nothing to run; new content still runs."""
    sensor = LandingSensor(defs, settings, instance)
    days = [date(2024, 3, 4), date(2024, 3, 5)]
    for day in days:
        _deliver(settings, day)
    sensor.tick()  # the UI was up once
    ingest(settings, days=days)  # the demo ran them
    for day in days:
        _deliver(settings, day)  # the demo again: the same files, written again
    assert sensor.tick() == []
    _deliver(settings, days[1], price="97.00")
    [request] = sensor.tick()
    assert _window(request) == ("2024-03-05", "2024-03-05")


def test_new_files_wait_while_a_run_writes_the_warehouse(defs, settings, instance):
    sensor = LandingSensor(defs, settings, instance)
    sensor.tick()
    _deliver(settings, date(2024, 3, 6), "late.csv")
    settings.warehouse.mkdir(parents=True)
    with open(lock_path(settings.warehouse), "a+") as held:  # as another process's run
        fcntl.flock(held, fcntl.LOCK_EX)
        assert sensor.tick() == []  # build.duckdb is busy: not read, not forgotten
        fcntl.flock(held, fcntl.LOCK_UN)
    [request] = sensor.tick()
    assert _window(request) == ("2024-03-06", "2024-03-06")


def test_consecutive_late_dates_are_one_run_and_others_their_own(defs, settings, instance):
    sensor = LandingSensor(defs, settings, instance)
    sensor.tick()
    for day in (date(2024, 3, 10), date(2024, 3, 11), date(2024, 3, 12), date(2024, 4, 2)):
        _deliver(settings, day)
    requests = sensor.tick()
    assert sorted(_window(r) for r in requests) == [
        ("2024-03-10", "2024-03-12"),
        ("2024-04-02", "2024-04-02"),
    ]


def test_half_copied_files_and_todays_files_are_left_alone(defs, settings, instance):
    sensor = LandingSensor(defs, settings, instance)
    sensor.tick()
    # No control file yet: the source may still be copying it.
    folder = settings.landing / "sales" / "2024-03-07"
    folder.mkdir(parents=True)
    (folder / "copying.csv").write_bytes(csv_bytes([sale()]))
    assert sensor.tick() == []
    # Today's file: the nightly run has not had its turn yet.
    today = datetime.now(SHANGHAI).date()
    _deliver(settings, today)
    # Before the first partition: not part of the warehouse.
    _deliver(settings, settings.start_date - timedelta(days=1))
    assert sensor.tick() == []
