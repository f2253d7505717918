"""Nightly runs touch only what changed, and still publish what one run over the whole
history publishes: new customers every day, a merge of two known customers, returns, and a
late correction of an earlier day, compared mart by mart, row for row."""

import shutil
from datetime import date, timedelta

import polars as pl
import pytest

from pipelines.generate import GenerateRequest, generate
from pipelines.ingest.landing import write_control
from pipelines.orchestrate import run_window
from pipelines.settings import Settings
from tests.integration.test_identity_merge import postings
from tests.integration.test_reruns import built, published
from tests.unit.test_ingest import csv_bytes, deliver, sale

# Eight whole runs: with the reliability suite (make test-reliability).
pytestmark = [pytest.mark.slow, pytest.mark.reliability]
START, DAYS = date(2024, 3, 1), 6
END = START + timedelta(days=DAYS - 1)
MERGE_DAY, CORRECTED_DAY = date(2024, 3, 4), date(2024, 3, 3)


def _sales(settings: Settings, day: date) -> pl.DataFrame:
    """The day's sales lines, each with the true person of its order."""
    files = sorted((settings.landing / "sales" / day.isoformat()).glob("*.csv"))
    persons = pl.read_parquet(settings.truth / "persons.parquet").filter(
        pl.col("source") == "sales"
    )
    lines = pl.concat([pl.read_csv(f, infer_schema=False) for f in files])
    return lines.join(persons, left_on="order_id", right_on="record_id")


def deliver_a_merge(settings: Settings) -> None:
    """An order on MERGE_DAY with the phone of a day-1 customer and the e-mail of a day-2
    customer (another person): the two known customers turn out to be one."""
    first = (
        _sales(settings, START).filter(pl.col("customer_phone").is_not_null()).row(0, named=True)
    )
    second = (
        _sales(settings, START + timedelta(days=1))
        .filter(
            pl.col("customer_email").is_not_null() & (pl.col("person_id") != first["person_id"])
        )
        .row(0, named=True)
    )
    order = sale(
        order_id=f"KDK{MERGE_DAY:%Y%m%d}9990001",
        order_ts=f"{MERGE_DAY}T11:00:00+08:00",
        member_id="",
        customer_id_number="",
        customer_name="",
        customer_phone=first["customer_phone"],
        customer_email=second["customer_email"],
    )
    deliver(settings, "merge.csv", csv_bytes([order]), day=MERGE_DAY)
    deliver(
        settings, "merge.csv", postings([order], MERGE_DAY, "JX"), source="ledger", day=MERGE_DAY
    )


def correct_a_day(settings: Settings) -> str:
    """The source withdraws one order of CORRECTED_DAY (sales and its postings re-delivered
    without it), after that day was published. Returns the order id."""
    folder = settings.landing / "sales" / CORRECTED_DAY.isoformat()
    path = sorted(folder.glob("*.csv"))[0]
    frame = pl.read_csv(path, infer_schema=False)
    withdrawn = frame["order_id"][0]
    _rewrite(path, frame.filter(pl.col("order_id") != withdrawn))
    for ledger in sorted((settings.landing / "ledger" / CORRECTED_DAY.isoformat()).glob("*")):
        if ledger.suffix == ".parquet":
            frame = pl.read_parquet(ledger)
            _rewrite(ledger, frame.filter(pl.col("source_doc_id") != withdrawn))
    return withdrawn


def _rewrite(path, frame: pl.DataFrame) -> None:
    if path.suffix == ".csv":
        frame.write_csv(path)
    else:
        frame.write_parquet(path)
    content = path.read_bytes()
    rows = frame.height
    write_control(path, content, rows)


def test_nightly_runs_publish_what_one_run_over_all_history_does(tmp_path, dbt_manifest):
    nightly = Settings(home=tmp_path / "nightly", start_date=START)
    request = GenerateRequest(start=START, days=DAYS, scale=0.05, seed=11, anomalies=0.0)
    generate(nightly.landing, nightly.truth, request)
    deliver_a_merge(nightly)

    for offset in range(DAYS):
        day = START + timedelta(days=offset)
        outcome = run_window(nightly, day, day)
        assert outcome.exit_code == 0, (day, outcome.message, outcome.details)
        # Each night patches the published file with what changed: it must equal the marts.
        assert published(nightly) == built(nightly), day
    returns = published(nightly)["fct_sales_margin"]
    assert any(row for row in returns if "RETURN" in row)

    withdrawn = correct_a_day(nightly)
    assert run_window(nightly, CORRECTED_DAY, CORRECTED_DAY).exit_code == 0  # the sensor's run

    whole = Settings(home=tmp_path / "whole", start_date=START)
    shutil.copytree(nightly.landing, whole.landing)
    assert run_window(whole, START, END).exit_code == 0

    by_night, at_once = published(nightly), published(whole)
    assert not any(withdrawn in repr(row) for row in by_night["fct_sales_margin"])
    assert by_night.keys() == at_once.keys()
    # The merge and split logs are history, not figures: nightly runs knew the two
    # customers apart before MERGE_DAY and logged their merge (and the correction may
    # have split the key of a customer the withdrawn order had joined); one run over
    # everything never did. The keys are the same either way (customer_profile and the
    # lines below).
    assert by_night.pop("customer_key_merges") and not at_once.pop("customer_key_merges")
    by_night.pop("customer_key_splits")
    assert not at_once.pop("customer_key_splits")
    for mart in at_once:
        assert by_night[mart] == at_once[mart], mart
