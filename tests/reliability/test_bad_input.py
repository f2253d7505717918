"""Corrupt and hostile input: each is a clear error naming the file and the fix, or a
quarantined row with its reason, never an escaping traceback, and what was loaded before
stays. (More file problems: tests/unit/test_ingest.py::FILE_PROBLEMS.)"""

from __future__ import annotations

import io
import random
from datetime import date

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.cli.sql import spreadsheet_safe
from pipelines.ingest.runner import IngestFailed
from pipelines.settings import Settings
from tests.e2e.test_cli import yecai
from tests.unit.test_ingest import (
    SALES_COLUMNS,
    audit_rows,
    csv_bytes,
    deliver,
    ingest,
    lake_snapshot,
    quarantine,
    raw,
    sale,
)

TEN_MB = 10 * 1024 * 1024


def _truncated_parquet() -> bytes:
    buffer = io.BytesIO()
    pl.DataFrame([sale(line_no="2")]).write_parquet(buffer)
    return buffer.getvalue()[:300]


# name → (file name, content, what the message says)
UNREADABLE = {
    "truncated_parquet": (
        "b.parquet",
        _truncated_parquet(),
        "not a readable Parquet file (corrupt or truncated)",
    ),
    "binary_junk": (
        "b.csv",
        random.Random(7).randbytes(64 * 1024),
        "not UTF-8 text",
    ),
    "ten_mb_single_line": (
        "b.csv",
        b"order_id," + b"x" * TEN_MB + b"\n",
        "field larger than field limit",
    ),
    "ten_mb_without_line_breaks": (
        "b.csv",
        b"a,b,c," * (TEN_MB // 6),
        "the header repeats column(s) a, b, c",
    ),
    "carriage_return_line_endings": (
        "b.csv",
        csv_bytes([sale(line_no="2")]).replace(b"\n", b"\r"),
        "lines end in a carriage return alone",
    ),
}


@pytest.mark.parametrize("case", sorted(UNREADABLE))
def test_an_unreadable_file_is_a_clear_error_and_loses_nothing(home, case):
    deliver(home, "a.csv", csv_bytes([sale()]))
    ingest(home)
    before = lake_snapshot(home)
    name, content, says = UNREADABLE[case]
    deliver(home, name, content, rows=1)
    with pytest.raises(IngestFailed) as failed:
        ingest(home)
    message = str(failed.value)
    assert name in message and says in message and "Fix:" in message
    assert len(message) < 2_000  # the file's content is not echoed back
    assert lake_snapshot(home) == before
    assert audit_rows(home)[-1]["status"] == "FAILED"


# name → (changed fields of line 2, what its quarantine reason says)
QUARANTINED = {
    "wrong_type": ({"quantity": "two"}, "quantity: 'two' is not"),
    "date_far_future": ({"order_ts": "9999-03-01T10:15:00+08:00"}, "is not this delivery's date"),
    "date_far_past": ({"order_ts": "0001-03-01T10:15:00+08:00"}, "is not this delivery's date"),
    "impossible_date": ({"order_ts": "2024-02-30T10:15:00+08:00"}, "is not an ISO 8601 time"),
    "negative_money": ({"unit_price": "-99.00"}, "unit_price: -99.00 is below the minimum 0"),
    "thousands_separator": ({"unit_price": "1,099.00"}, "(no thousands separators)"),
    "sql_in_a_reference": (
        {"campaign_id": "x'); DROP TABLE audit.ingest_files; --"},
        "not found in seeds/marketing_budgets.csv",
    ),
}


@pytest.mark.parametrize("case", sorted(QUARANTINED))
def test_a_bad_value_quarantines_its_row_with_the_reason(home, case):
    changes, says = QUARANTINED[case]
    deliver(home, "a.csv", csv_bytes([sale(), sale(line_no="2", **changes)]))
    [result] = ingest(home)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (2, 1, 1)
    [reason] = quarantine(home)["_reason"].to_list()
    assert says in reason
    assert raw(home)["line_no"].to_list() == [1]


def test_an_out_of_range_expiry_date_quarantines_the_stock_row(home):
    header = "snapshot_date,location_id,sku,batch_no,expiry_date,on_hand_qty,unit_cost\n"
    good = "2024-03-01,KDK-S01,KDK-DPS,B1,2025-06-30,10,50.00\n"
    bad = "2024-03-01,KDK-S01,KDK-DPS,B2,2024-13-45,10,50.00\n"
    deliver(home, "stock.csv", (header + good + bad).encode(), source="inventory")
    [result] = ingest(home, "inventory")
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    assert "expiry_date" in quarantine(home, "inventory")["_reason"][0]


HOSTILE_TEXT = [
    "'); DROP TABLE audit.ingest_files; --",
    "1; ATTACH '/etc/passwd' AS x; --",
    "=cmd|' /C calc'!A0",
    "+SUM(1,2)",
    '@HYPERLINK("http://x")',
]


def test_sql_and_formula_text_is_only_text(home):
    """Free text is data: stored as delivered, never run; a CSV export defuses formulas."""
    postings = pl.DataFrame(
        {
            "journal_id": [f"JE{n}" for n in range(len(HOSTILE_TEXT))],
            "line_no": "1",
            "posting_date": "2024-03-01",
            "account_code": "6601",
            "brand_code": "KDK",
            "cost_center": "KDK-S01",
            "debit": "1.00",
            "credit": "0.00",
            "source_system": "MANUAL",
            "source_doc_id": "",
            "description": HOSTILE_TEXT,
        }
    )
    deliver(home, "gl.csv", postings.write_csv().encode(), source="ledger")
    [result] = ingest(home, "ledger")
    assert result.rows_loaded == len(HOSTILE_TEXT)
    assert sorted(raw(home, "ledger")["description"].to_list()) == sorted(HOSTILE_TEXT)
    with duckdb.connect(str(home.build_db), read_only=True) as con:
        assert con.execute("select count(*) from audit.ingest_files").fetchone()[0] == 1
    exported = spreadsheet_safe(pl.DataFrame({"description": HOSTILE_TEXT}))
    assert exported["description"].to_list() == [
        text if text[0] not in "=+@" else "'" + text for text in HOSTILE_TEXT
    ]


# --------------------------------------------------------------------- fuzzing ----------

FIELD = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "0", "-1", "1e9", "NaN", "2024-03-01", "1,5", '"', "\\N", "null"]),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.fixed_dictionaries({}, optional={c: FIELD for c in SALES_COLUMNS}), max_size=8)
)
def test_fuzzed_rows_are_all_accounted_for(tmp_path_factory, rows):
    """Whatever the rows hold: rows read = loaded + quarantined, or the file is refused
    with a clear error; nothing else escapes."""
    settings_ = Settings(home=tmp_path_factory.mktemp("fuzz") / "home")
    settings_.landing.mkdir(parents=True)
    content = csv_bytes([sale(**{"line_no": str(n + 1), **row}) for n, row in enumerate(rows)])
    deliver(settings_, "a.csv", content, rows=len(rows))
    try:
        [result] = ingest(settings_)
    except IngestFailed as failed:
        assert "Fix:" in str(failed)
        return
    assert result.rows_read == len(rows) == result.rows_loaded + result.rows_quarantined
    [record] = audit_rows(settings_)
    assert record["rows_read"] == record["rows_loaded"] + record["rows_quarantined"]


# ------------------------------------------------------------ through the CLI -----------


@pytest.mark.slow
def test_bad_files_end_the_run_with_exit_2_and_no_traceback(tmp_path):
    home = Settings(home=tmp_path / "home")
    home.landing.mkdir(parents=True)
    for number, (_case, (name, content, _)) in enumerate(sorted(UNREADABLE.items())):
        deliver(home, name, content, rows=1, day=date(2024, 3, 1 + number))
    attempts = [
        yecai(home.home, "run", "--start", "2024-03-01", "--end", "2024-03-05"),
        yecai(home.home, "run", "--start", "2024-03-01'; DROP TABLE x; --"),
        yecai(home.home, "generate", "--start", "2024-03-01", "--days", "1; rm -rf /"),
    ]
    for attempt in attempts:
        assert attempt.returncode == 2, attempt.stdout + attempt.stderr
        assert "Traceback" not in attempt.stdout + attempt.stderr
    run_output = attempts[0].stdout + attempts[0].stderr
    assert all(name in run_output for name, _, _ in UNREADABLE.values())
    assert "Fix:" in run_output
