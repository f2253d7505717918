"""Deliveries that are not what they seem: links, stray control files, folders and pipes
named like data, control files with odd numbers, Parquet columns of the wrong kind, and
re-deliveries whose outcome must not depend on the order they came in."""

import io
import json
import os
import shutil
from datetime import date

import duckdb
import polars as pl
import pytest

from pipelines.ingest.landing import write_control
from pipelines.ingest.runner import IngestFailed
from pipelines.settings import Settings
from tests.unit.test_ingest import (
    DAY,
    audit_rows,
    csv_bytes,
    deliver,
    ingest,
    lake_snapshot,
    quarantine,
    raw,
    sale,
)
from tests.unit.test_personal_data_out_of_place import PHONE

DAY2 = date(2024, 3, 2)


def folder(home, day=DAY, source="sales"):
    path = home.landing / source / day.isoformat()
    path.mkdir(parents=True, exist_ok=True)
    return path


def failed_message(home, days=(DAY,)) -> str:
    with pytest.raises(IngestFailed) as failed:
        ingest(home, days=days)
    return str(failed.value)


# ---------------------------------------------------------------- what is in landing ----


def test_a_link_is_refused_and_what_it_points_to_is_not_read(home, tmp_path):
    outside = tmp_path / "elsewhere.csv"
    outside.write_bytes(csv_bytes([sale(customer_phone=PHONE)]))
    link = folder(home) / "kids.csv"
    link.symlink_to(outside)
    write_control(link, outside.read_bytes(), 1)
    message = failed_message(home)
    assert "kids.csv: is a symbolic link" in message
    assert PHONE not in message and not (home.raw_lake / "sales").exists()


def test_a_control_file_without_its_data_file_is_a_delivery_error(home):
    deliver(home, "kids.csv", csv_bytes([sale()]))
    (folder(home) / "pos.csv.ok").write_text(json.dumps({"rows": 1, "sha256": "0" * 64}))
    assert "pos.csv.ok: is a control file without its data file pos.csv" in failed_message(home)
    assert not (home.raw_lake / "sales").exists()  # the date stays as it was


@pytest.mark.parametrize("kind", ["folder", "pipe"])
def test_a_folder_or_pipe_named_like_data_is_a_delivery_error(home, kind):
    path = folder(home) / "kids.csv"
    path.mkdir() if kind == "folder" else os.mkfifo(path)
    (folder(home) / "kids.csv.ok").write_text(json.dumps({"rows": 0, "sha256": "0" * 64}))
    assert "kids.csv: is not a regular file" in failed_message(home)


@pytest.mark.parametrize(
    "control",
    [
        '{"rows": 1e400, "sha256": "%s"}',
        '{"rows": "1", "sha256": "%s"}',
        '{"rows": true, "sha256": "%s"}',
        "[1]",
        "folder",
    ],
)
def test_a_control_file_of_the_wrong_form_is_named(home, control):
    path = deliver(home, "kids.csv", csv_bytes([sale()]))
    ok = path.with_name("kids.csv.ok")
    ok.unlink()
    if control == "folder":
        ok.mkdir()
    else:
        ok.write_text(control % ("a" * 64) if "%s" in control else control)
    message = failed_message(home)
    assert "kids.csv.ok" in message
    assert "control file is not JSON" in message or "is not a regular file" in message


def test_a_row_missing_its_last_field_fails_the_file_naming_the_line(home):
    content = csv_bytes([sale(), sale(line_no="2")])
    lines = content.split(b"\n")
    lines[2] = lines[2].rsplit(b",", 1)[0]  # the second data row loses its last field
    deliver(home, "kids.csv", b"\n".join(lines), rows=2)
    message = failed_message(home)
    assert "kids.csv" in message and "line 3" in message and "fewer fields" in message


def _parquet(columns: dict) -> bytes:
    frame = pl.DataFrame(
        {
            "journal_id": ["JE1"],
            "line_no": pl.Series([1], dtype=pl.Int32),
            "posting_date": [DAY],
            "account_code": ["1122"],
            "brand_code": ["KDK"],
            "cost_center": ["KDK-S01"],
            "debit": ["10.00"],
            "credit": ["0.00"],
            "source_system": ["POS"],
            "source_doc_id": ["O1"],
            "description": ["销售"],
            **columns,
        }
    )
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("column", "bad", "says"),
    [
        ("cost_center", pl.Series([["KDK-S01"]]), "column cost_center holds List values"),
        ("description", pl.Series([b"\xff\xfe"], dtype=pl.Binary), "column description holds"),
    ],
)
def test_a_parquet_column_of_the_wrong_kind_fails_only_its_own_date(home, column, bad, says):
    deliver(home, "gl.parquet", _parquet({column: bad}), rows=1, source="ledger")
    good = _parquet({"posting_date": [DAY2]})
    deliver(home, "gl.parquet", good, rows=1, source="ledger", day=DAY2)
    with pytest.raises(IngestFailed) as failed:
        ingest(home, "ledger", days=(DAY, DAY2))
    message = str(failed.value)
    assert "2024-03-01/gl.parquet" in message and says in message
    assert raw(home, "ledger", DAY2).height == 1  # the other date loaded


# ------------------------------------------------------------- re-delivery histories ----


def test_a_duplicate_stays_a_duplicate_of_what_it_duplicated(home):
    first = deliver(home, "a.csv", csv_bytes([sale(), sale(order_id="KDK202403010000002")]))
    ingest(home)
    deliver(home, "b.csv", first.read_bytes())
    ingest(home)
    # The source corrects a.csv, withdrawing the second order; b.csv is the stale copy.
    deliver(home, "a.csv", csv_bytes([sale()]))
    ingest(home)
    after = lake_snapshot(home)
    [result] = ingest(home)  # and again: a re-run never changes the outcome
    assert result.files_duplicate == ["b.csv"] and not result.files_loaded
    assert raw(home)["order_id"].to_list() == ["KDK202403010000001"]
    assert lake_snapshot(home) == after
    assert [r["status"] for r in audit_rows(home) if r["file_name"] == "b.csv"] == [
        "DUPLICATE_DELIVERY"
    ]


def _day_of_two_files(home, order) -> None:
    """b.csv and, later or at once, a.csv: both carry the order's first line."""
    if order == "b first":
        deliver(home, "b.csv", csv_bytes([sale(), sale(line_no="2")]))
        ingest(home)
        deliver(home, "a.csv", csv_bytes([sale(discount_amount="0.00", net_amount="193.00")]))
    else:
        deliver(home, "b.csv", csv_bytes([sale(), sale(line_no="2")]))
        deliver(home, "a.csv", csv_bytes([sale(discount_amount="0.00", net_amount="193.00")]))
    ingest(home)


def test_which_file_owns_a_repeated_key_depends_on_landing_alone(tmp_path):
    homes = {}
    for order in ("b first", "together"):
        home = Settings(home=tmp_path / order.replace(" ", "-"))
        home.landing.mkdir(parents=True)
        _day_of_two_files(home, order)
        homes[order] = home

    def content(home):
        loaded = raw(home).drop("_source_row_number").sort("_source_file", "line_no")
        reasons = quarantine(home).select("_source_file", "line_no", "_reason").sort("line_no")
        return loaded.rows(), reasons.rows()

    assert content(homes["b first"]) == content(homes["together"])
    loaded, reasons = content(homes["together"])
    assert [(r[-1], r[1]) for r in loaded] == [("a.csv", 1), ("b.csv", 2)]  # first by name
    assert (
        reasons == [("b.csv", "1", reasons[0][2])] and "already loaded from a.csv" in reasons[0][2]
    )


def test_a_corrected_file_whose_rows_change_hands_rewrites_the_other_file(home):
    deliver(home, "a.csv", csv_bytes([sale()]))
    deliver(home, "b.csv", csv_bytes([sale(), sale(line_no="2")]))
    ingest(home)
    assert quarantine(home)["_source_file"].to_list() == ["b.csv"]
    deliver(home, "a.csv", csv_bytes([sale(order_id="KDK202403010000009")]))
    [result] = ingest(home)
    # b.csv's first line is no longer repeated: it loads now, as it would from landing alone.
    assert sorted(result.files_loaded) == ["a.csv", "b.csv"]
    assert not list((home.quarantine_lake / "sales").rglob("*.parquet"))
    assert sorted(raw(home).select("_source_file", "line_no").rows()) == [
        ("a.csv", 1),
        ("b.csv", 1),
        ("b.csv", 2),
    ]
    with duckdb.connect(str(home.build_db), read_only=True) as con:
        latest = con.execute(
            "select file_name, rows_read, rows_loaded, rows_quarantined from audit.ingest_files "
            "qualify row_number() over (partition by file_name order by ingested_at desc) = 1 "
            "order by 1"
        ).fetchall()
    assert latest == [("a.csv", 1, 1, 0), ("b.csv", 2, 2, 0)]


def test_a_purged_landing_file_keeps_its_rows(home):
    path = deliver(home, "a.csv", csv_bytes([sale()]))
    deliver(home, "b.csv", csv_bytes([sale(order_id="KDK202403010000002")]))
    ingest(home)
    path.unlink()
    path.with_name("a.csv.ok").unlink()
    deliver(home, "b.csv", csv_bytes([sale(order_id="KDK202403010000003")]))
    ingest(home)
    assert sorted(raw(home)["order_id"].to_list()) == ["KDK202403010000001", "KDK202403010000003"]
    shutil.rmtree(home.landing)  # nothing in landing: nothing to do
    ingest(home)
    assert raw(home).height == 2


def test_an_amount_beyond_the_contracts_maximum_is_quarantined(home):
    too_much = sale(unit_price="100000000.00", discount_amount="0.00")
    deliver(home, "kids.csv", csv_bytes([too_much, sale(line_no="2")]))
    [result] = ingest(home)
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    assert "unit_price: 100000000.00 is above the maximum" in quarantine(home)["_reason"][0]
