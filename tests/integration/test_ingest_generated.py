"""Ingesting generated extracts: exactly the injected defects are caught, nothing leaks."""

import logging
import shutil

import duckdb
import polars as pl
import pytest

from pipelines.generate import GenerateRequest, generate
from pipelines.ingest.runner import IngestFailed, ingest_source
from pipelines.settings import SOURCES, Settings
from tests.conftest import GENERATED, pii_key
from tests.pii_scan import database_findings, lake_findings, raw_pii_values, text_findings


def days_of(request: GenerateRequest):
    from datetime import timedelta

    return [request.start + timedelta(days=i) for i in range(request.days)]


def ingest_all(settings: Settings, request: GenerateRequest) -> dict[str, object]:
    outcomes = {}
    for source in SOURCES:
        try:
            outcomes[source] = ingest_source(settings, source, days_of(request), pii_key(), "it")
        except IngestFailed as failed:
            outcomes[source] = failed
    return outcomes


@pytest.fixture
def ingested(generated_copy, caplog):
    caplog.set_level(logging.DEBUG)
    outcomes = ingest_all(generated_copy, GENERATED)
    assert not any(isinstance(o, IngestFailed) for o in outcomes.values()), outcomes
    return generated_copy


def test_quarantine_holds_exactly_the_injected_row_defects(ingested):
    truth = pl.read_parquet(ingested.truth / "defects.parquet").filter(pl.col("family") == "INGEST")
    expected = set(truth.select("source", "file_name", "row_number").iter_rows())
    caught = set()
    for source in SOURCES:
        files = sorted((ingested.quarantine_lake / source).rglob("*.parquet"))
        if files:
            frame = pl.read_parquet(files).select(
                pl.lit(source), "_source_file", "_source_row_number"
            )
            caught |= set(frame.iter_rows())
    assert caught == expected


def test_every_file_is_accounted_for(ingested):
    with duckdb.connect(str(ingested.build_db), read_only=True) as con:
        audit = con.sql("select * from audit.ingest_files").pl()
    delivered = [p for p in ingested.landing.rglob("*") if p.suffix in (".csv", ".parquet")]
    assert audit.height == len(delivered)
    assert (audit["status"] == "LOADED").all()
    assert (audit["rows_read"] == audit["rows_loaded"] + audit["rows_quarantined"]).all()
    raw_rows = sum(pl.read_parquet(p).height for p in ingested.raw_lake.rglob("*.parquet"))
    assert raw_rows == audit["rows_loaded"].sum()


def test_no_raw_personal_data_in_the_warehouse_the_lake_or_the_logs(ingested, caplog):
    values = raw_pii_values(ingested.landing)
    assert len(values) > 500  # the scan has something to look for
    assert database_findings(ingested.build_db, values) == []
    # The identity features of every token (lake/identity_features) are scanned too.
    assert sorted(p.name for p in (ingested.lake / "identity_features").iterdir()) == [
        "email",
        "id_number",
        "name",
        "phone",
    ]
    assert lake_findings(ingested.lake, values) == []
    assert text_findings(caplog.text, values) == []


def test_reingesting_changes_nothing(ingested):
    before = {p: p.read_bytes() for p in sorted(ingested.lake.rglob("*.parquet"))}
    with duckdb.connect(str(ingested.build_db), read_only=True) as con:
        audit_rows = con.execute("select count(*) from audit.ingest_files").fetchone()[0]
    outcomes = ingest_all(ingested, GENERATED)
    assert all(r.files_loaded == [] for results in outcomes.values() for r in results)
    assert {p: p.read_bytes() for p in sorted(ingested.lake.rglob("*.parquet"))} == before
    with duckdb.connect(str(ingested.build_db), read_only=True) as con:
        assert con.execute("select count(*) from audit.ingest_files").fetchone()[0] == audit_rows


def test_file_level_defects_fail_their_dates_with_clear_errors(tmp_path, caplog):
    request = GenerateRequest(start=GENERATED.start, days=3, scale=0.03, seed=3, file_defects=True)
    settings = Settings(home=tmp_path / "home")
    generate(settings.landing, settings.truth, request)
    outcomes = ingest_all(settings, request)
    truth = pl.read_parquet(settings.truth / "defects.parquet").filter(pl.col("family") == "FILE")
    failed_day = truth["business_date"][0].isoformat()

    sales = outcomes["sales"]
    assert isinstance(sales, IngestFailed)
    messages = {p.path.name: str(p) for p in sales.problems}
    gbk = truth.filter(pl.col("defect") == "GBK_ENCODING")["file_name"][0]
    truncated = truth.filter(pl.col("defect") == "TRUNCATED")["file_name"][0]
    assert set(messages) == {gbk, truncated}
    assert "GBK" in messages[gbk] and "iconv" in messages[gbk]
    assert "does not match its control file" in messages[truncated]
    consultations = outcomes["consultations"]
    assert isinstance(consultations, IngestFailed)
    assert "missing column(s) patient_phone" in str(consultations)
    assert "unexpected column(s) mobile" in str(consultations)
    # The failed date has nothing loaded; the other dates loaded in full.
    for source in ("sales", "consultations"):
        loaded_days = sorted(p.name for p in (settings.raw_lake / source).iterdir())
        assert f"business_date={failed_day}" not in loaded_days
        assert len(loaded_days) == request.days - 1
    ledger = outcomes["ledger"]
    assert not isinstance(ledger, IngestFailed)
    duplicate = truth.filter(pl.col("defect") == "DUPLICATE_DELIVERY")["file_name"][0]
    assert [f for r in ledger for f in r.files_duplicate] == [duplicate]
    values = raw_pii_values(settings.landing)
    assert text_findings(str(sales) + str(consultations) + caplog.text, values) == []


def test_fixed_file_loads_on_the_next_run(tmp_path):
    request = GenerateRequest(start=GENERATED.start, days=2, scale=0.03, seed=3, file_defects=True)
    broken = Settings(home=tmp_path / "broken")
    clean = Settings(home=tmp_path / "clean")
    generate(broken.landing, broken.truth, request)
    generate(
        clean.landing, clean.truth, GenerateRequest(**{**request.__dict__, "file_defects": False})
    )
    with pytest.raises(IngestFailed):
        ingest_source(broken, "sales", days_of(request), pii_key(), "first")
    # The source re-delivers the failed day's files correctly.
    failed_day = days_of(request)[1]
    for folder in (clean.landing / "sales" / failed_day.isoformat(),):
        for path in folder.iterdir():
            shutil.copyfile(path, broken.landing / "sales" / failed_day.isoformat() / path.name)
    results = ingest_source(broken, "sales", days_of(request), pii_key(), "second")
    assert all(r.delivered and not r.problems for r in results)


def test_the_scan_finds_planted_personal_data(ingested):
    values = raw_pii_values(ingested.landing)
    phone = next(v for v in values if v.isdigit() and len(v) == 11)
    with duckdb.connect(str(ingested.build_db)) as con:
        con.execute("create table audit.leak (note varchar, contact varchar)")
        con.execute(
            "insert into audit.leak values ('call back', ?), ('x', 'mail a.b@c.com')", [phone]
        )
    findings = database_findings(ingested.build_db, values)
    assert any("leak" in f and "delivered value" in f for f in findings)
    assert any("leak" in f and "email" in f for f in findings)
    assert text_findings(f"customer {phone} called", values) != []
