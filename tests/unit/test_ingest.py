"""Ingestion rules (docs/product.md, "Ingestion"), each on a small hand-made delivery."""

import csv
import hashlib
import hmac
import io
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines import pii
from pipelines.contracts import load_contract
from pipelines.ingest.landing import write_control
from pipelines.ingest.runner import IngestFailed, ingest_source
from tests.conftest import pii_key

DAY = date(2024, 3, 1)
SALES_COLUMNS = list(load_contract("sales").column_names)


def sale(**changes) -> dict:
    row = {
        "order_id": "KDK202403010000001",
        "line_no": "1",
        "order_ts": "2024-03-01T10:15:00+08:00",
        "brand_code": "KDK",
        "channel_code": "STORE",
        "store_id": "KDK-S01",
        "member_id": "KDKM000000001",
        "customer_phone": "+86 138 1234 5678",
        "customer_email": " Li.Lei@Example.com ",
        "customer_name": "李雷",
        "customer_id_number": "11010519491231002x",
        "sku": "KDK-DPS",
        "line_type": "SALE",
        "quantity": "2",
        "unit_price": "99.00",
        "discount_amount": "10.00",
        "points_redeemed": "500",
        "points_earned": "183",
        "net_amount": "183.00",
        "tax_amount": "23.14",
        "payment_status": "PAID",
        "prescription_id": "",
        "trace_code": "",
        "campaign_id": "",
    }
    row.update(changes)
    return row


def csv_bytes(rows: list[dict], columns: list[str] = SALES_COLUMNS) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def deliver(home, name: str, content: bytes, rows: int | None = None, source="sales", day=DAY):
    folder = home.landing / source / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    write_control(path, content, rows if rows is not None else content.count(b"\n") - 1)
    return path


def ingest(home, source="sales", days=(DAY,)):
    return ingest_source(home, source, list(days), pii_key(), "test-run")


def raw(home, source="sales", day=DAY) -> pl.DataFrame:
    return pl.read_parquet(home.raw_lake / source / f"business_date={day}" / "*.parquet")


def quarantine(home, source="sales", day=DAY) -> pl.DataFrame:
    return pl.read_parquet(home.quarantine_lake / source / f"business_date={day}" / "*.parquet")


def audit_rows(home) -> list[dict]:
    with duckdb.connect(str(home.build_db), read_only=True) as con:
        return con.sql("select * from audit.ingest_files order by ingested_at").pl().to_dicts()


def lake_snapshot(home) -> dict[str, bytes]:
    return {
        str(p.relative_to(home.lake)): p.read_bytes() for p in sorted(home.lake.rglob("*.parquet"))
    }


def test_valid_rows_load_typed_and_tokenised(home):
    deliver(home, "kids.csv", csv_bytes([sale(), sale(line_no="2")]))
    [result] = ingest(home)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (2, 2, 0)
    loaded = raw(home)
    assert loaded["unit_price"].to_list() == [Decimal("99.00")] * 2
    assert loaded.schema["unit_price"] == pl.Decimal(18, 2)
    assert "customer_phone" not in loaded.columns
    expected = hmac.new(pii_key(), b"phone:13812345678", hashlib.sha256).hexdigest()
    assert loaded["customer_phone_token"].to_list() == [expected] * 2
    assert loaded["customer_phone_masked"][0] == "138****5678"
    assert loaded["customer_email_masked"][0] == "l***@example.com"
    [record] = audit_rows(home)
    assert record["status"] == "LOADED"
    assert (record["rows_read"], record["rows_loaded"], record["rows_quarantined"]) == (2, 2, 0)
    assert (
        record["file_sha256"]
        == hashlib.sha256(
            (home.landing / "sales" / "2024-03-01" / "kids.csv").read_bytes()
        ).hexdigest()
    )


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"quantity": "abc"}, "quantity: 'abc' is not a whole number"),
        (
            {"unit_price": "1,099.00"},
            "unit_price: '1,099.00' is not a number with at most 2 decimals",
        ),
        ({"unit_price": "99.001"}, "unit_price: '99.001' is not a number with at most 2 decimals"),
        ({"order_ts": "2024/03/01 10:15"}, "order_ts: '2024/03/01 10:15' is not an ISO 8601 time"),
        ({"order_ts": "2024-03-01T10:15:00"}, "is not an ISO 8601 time with offset"),
        ({"sku": ""}, "sku: required but empty"),
        ({"line_type": "SOLD"}, "line_type: 'SOLD' is not one of SALE, RETURN"),
        ({"quantity": "0", "net_amount": "-15.00"}, "quantity: 0 is below the minimum 1"),
        (
            {"discount_amount": "-1.00", "net_amount": "194.00"},
            "discount_amount: -1.00 is below the minimum 0",
        ),
        ({"net_amount": "180.00"}, "rule net_amount_arithmetic broken"),
        (
            {"discount_amount": "500.00", "net_amount": "-307.00"},
            "rule discount_within_gross broken",
        ),
        (
            {"sku": "KDK-NOPE"},
            "(sku, brand_code) = ('KDK-NOPE', 'KDK') not found in seeds/products.csv",
        ),
        ({"channel_code": "ONLINE"}, "not found in seeds/stores.csv"),
        (
            {"campaign_id": "CMP-NONE"},
            "(campaign_id) = ('CMP-NONE') not found in seeds/marketing_budgets.csv",
        ),
        (
            {"order_ts": "2024-03-02T10:15:00+08:00"},
            "business date 2024-03-02 (Asia/Shanghai) is not this delivery's date 2024-03-01",
        ),
        ({"order_ts": "2024-02-29T17:00:00Z"}, None),  # 01:00 on 1 March in Shanghai: fine
        ({"member_id": "VIP-7"}, "member_id: 'VIP-7' does not match the contract's pattern"),
        ({"customer_phone": "12345"}, "customer_phone: not a valid phone (value withheld)"),
        ({"customer_id_number": "11010519491231002"}, "customer_id_number: not a valid id_number"),
        # The right shape with a failing check digit: a typo of a real ID number (below).
        ({"customer_id_number": "110105194912310021"}, None),
    ],
)
def test_a_broken_rule_quarantines_the_row_with_its_reason(home, changes, reason):
    deliver(home, "kids.csv", csv_bytes([sale(), sale(line_no="2", **changes)]))
    [result] = ingest(home)
    assert result.rows_read == result.rows_loaded + result.rows_quarantined == 2
    if reason is None:
        assert result.rows_quarantined == 0
        return
    bad = quarantine(home)
    assert bad["_source_row_number"].to_list() == [2]
    assert reason in bad["_reason"][0]
    assert raw(home)["line_no"].to_list() == [1]


def test_an_id_number_failing_its_check_digit_loads_with_the_verdict(home):
    """A sale with a mistyped customer ID number is still a sale: the row loads, its token
    is the typo's, and the lake says the number failed its check digit (identity matching
    weighs it); a valid number says so too, and no number says nothing."""
    typo, valid = "110105194912310021", "11010519491231002X"
    assert pl.select(pii.is_valid("id_number", pl.lit(valid))).item()
    deliver(
        home,
        "kids.csv",
        csv_bytes(
            [
                sale(customer_id_number=typo),
                sale(line_no="2", customer_id_number=valid.lower()),
                sale(line_no="3", customer_id_number=""),
            ]
        ),
    )
    [result] = ingest(home)
    assert result.rows_loaded == 3 and result.rows_quarantined == 0
    loaded = raw(home).sort("line_no")
    assert loaded["customer_id_number_valid"].to_list() == [False, True, None]
    assert loaded["customer_id_number_token"][0] == pii.token_for("id_number", typo, pii_key())
    assert typo not in str(loaded.rows())


def test_reasons_never_quote_personal_data(home):
    deliver(home, "kids.csv", csv_bytes([sale(customer_phone="12345999", quantity="x")]))
    ingest(home)
    bad = quarantine(home)
    assert "12345999" not in str(bad.to_dicts())
    assert bad["customer_phone_masked"][0] == "********"


def test_repeated_key_in_a_file_keeps_the_first(home):
    deliver(home, "kids.csv", csv_bytes([sale(), sale(customer_name="韩梅梅")]))
    [result] = ingest(home)
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    assert (
        "duplicate key (order_id, line_no): same as row 1 of kids.csv"
        in quarantine(home)["_reason"][0]
    )


def test_repeated_key_across_files_of_a_date(home):
    deliver(home, "a.csv", csv_bytes([sale()]))
    deliver(home, "b.csv", csv_bytes([sale(), sale(line_no="2")]))
    [result] = ingest(home)
    assert (result.rows_loaded, result.rows_quarantined) == (2, 1)
    assert "already loaded from a.csv" in quarantine(home)["_reason"][0]


def test_typed_parquet_delivery_loads(home):
    frame = pl.DataFrame(
        {
            "journal_id": ["JE1", "JE1"],
            "line_no": pl.Series([1, 2], dtype=pl.Int32),
            "posting_date": [DAY, DAY],
            "account_code": ["1122", "6001"],
            "brand_code": ["KDK"] * 2,
            "cost_center": ["KDK-S01"] * 2,
            "debit": pl.Series([Decimal("10.00"), Decimal("0")], dtype=pl.Decimal(18, 2)),
            "credit": pl.Series([Decimal("0"), Decimal("10.00")], dtype=pl.Decimal(18, 2)),
            "source_system": ["POS"] * 2,
            "source_doc_id": ["O1"] * 2,
            "description": ["销售"] * 2,
        }
    )
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    deliver(home, "gl.parquet", buffer.getvalue(), rows=2, source="ledger")
    [result] = ingest(home, "ledger")
    assert (result.rows_loaded, result.rows_quarantined) == (2, 0)
    assert raw(home, "ledger")["credit"].to_list() == [Decimal("0.00"), Decimal("10.00")]


def test_extra_column_is_ignored_with_a_warning(home):
    rows = [{**sale(), "loyalty_tier": "GOLD"}]
    deliver(home, "kids.csv", csv_bytes(rows, [*SALES_COLUMNS, "loyalty_tier"]))
    [result] = ingest(home)
    assert result.rows_loaded == 1
    assert "loyalty_tier" in audit_rows(home)[0]["message"]
    assert "loyalty_tier" not in raw(home).columns


def test_header_only_file_is_a_delivery_without_rows(home):
    deliver(home, "kids.csv", csv_bytes([]))
    [result] = ingest(home)
    assert result.delivered and result.rows_read == 0
    assert raw(home).height == 0


def test_file_without_control_file_waits(home):
    folder = home.landing / "sales" / DAY.isoformat()
    folder.mkdir(parents=True)
    (folder / "kids.csv").write_bytes(csv_bytes([sale()]))
    [result] = ingest(home)
    assert not result.delivered and result.files_waiting == ["kids.csv"]
    assert not (home.raw_lake / "sales").exists()


def test_same_file_again_is_a_no_op(home):
    deliver(home, "kids.csv", csv_bytes([sale()]))
    ingest(home)
    before, records = lake_snapshot(home), len(audit_rows(home))
    [result] = ingest(home)
    assert result.files_unchanged == ["kids.csv"] and result.rows_read == 0
    assert lake_snapshot(home) == before and len(audit_rows(home)) == records


def test_corrected_file_replaces_only_its_own_rows(home):
    deliver(home, "a.csv", csv_bytes([sale(), sale(line_no="2")]))
    deliver(home, "b.csv", csv_bytes([sale(order_id="KDK202403010000002")]))
    ingest(home)
    b_before = (home.raw_lake / "sales" / "business_date=2024-03-01" / "b.csv.parquet").read_bytes()
    deliver(home, "a.csv", csv_bytes([sale(quantity="1", net_amount="84.00", points_earned="84")]))
    [result] = ingest(home)
    assert result.files_loaded == ["a.csv"] and result.files_unchanged == ["b.csv"]
    loaded = raw(home).sort("_source_file", "line_no")
    assert loaded.select("_source_file", "line_no", "quantity").rows() == [
        ("a.csv", 1, 1),
        ("b.csv", 1, 2),
    ]
    assert (
        home.raw_lake / "sales" / "business_date=2024-03-01" / "b.csv.parquet"
    ).read_bytes() == b_before


def test_corrected_file_takes_its_quarantined_rows_away(home):
    deliver(home, "a.csv", csv_bytes([sale(), sale(line_no="2", quantity="x")]))
    deliver(home, "b.csv", csv_bytes([sale(order_id="KDK202403010000002", sku="")]))
    ingest(home)
    assert sorted(quarantine(home)["_source_file"].to_list()) == ["a.csv", "b.csv"]
    deliver(home, "a.csv", csv_bytes([sale(), sale(line_no="2")]))
    [result] = ingest(home)
    assert (result.rows_loaded, result.rows_quarantined) == (2, 0)
    assert quarantine(home)["_source_file"].to_list() == ["b.csv"]
    assert sorted(raw(home)["_source_file"].to_list()) == ["a.csv", "a.csv"]


def test_a_clean_delivery_writes_no_quarantine_file(home):
    deliver(home, "a.csv", csv_bytes([sale()]))
    ingest(home)
    assert not (home.quarantine_lake / "sales").exists()


def test_same_content_under_another_name_is_a_duplicate_delivery(home):
    path = deliver(home, "a.csv", csv_bytes([sale()]))
    ingest(home)
    deliver(home, "a (1).csv", path.read_bytes())
    [result] = ingest(home)
    assert result.files_duplicate == ["a (1).csv"]
    assert raw(home).height == 1
    assert audit_rows(home)[-1]["status"] == "DUPLICATE_DELIVERY"


def _gbk(rows):
    return csv_bytes(rows).decode("utf-8").encode("gb18030")


FILE_PROBLEMS = {
    "truncated": (lambda good: good[: len(good) // 2], "rows", "does not match its control file"),
    "rows_differ": (lambda good: good, 5, "holds 2 data rows but its control file says 5"),
    "gbk": (
        lambda good: _gbk([sale(), sale(line_no="2")]),
        "rows",
        "not UTF-8 text (first invalid byte on line 2); it looks like GBK/GB18030",
    ),
    "renamed_column": (
        lambda good: good.replace(b"customer_phone", b"mobile", 1),
        "rows",
        "missing column(s) customer_phone",
    ),
    "empty": (lambda good: b"", 0, "the file is empty (no header row)"),
    "ragged": (lambda good: good + b'X,"unclosed\n', 3, "not readable as comma-separated values"),
}


@pytest.mark.parametrize("problem", sorted(FILE_PROBLEMS))
def test_unreadable_file_fails_its_date_and_keeps_what_was_loaded(home, problem):
    deliver(home, "kids.csv", csv_bytes([sale()]))
    deliver(home, "kids.csv", csv_bytes([sale()]), day=date(2024, 3, 2))  # wrong date rows
    ingest(home, days=(DAY,))
    before = lake_snapshot(home)
    good = csv_bytes([sale(), sale(line_no="2")])
    corrupt, rows, message = FILE_PROBLEMS[problem]
    content = corrupt(good)
    folder = home.landing / "sales" / DAY.isoformat()
    (folder / "kids.csv").write_bytes(content)
    # The control file describes the file the source meant to send.
    write_control(
        folder / "kids.csv",
        good if problem == "truncated" else content,
        2 if rows == "rows" else rows,
    )
    with pytest.raises(IngestFailed) as failed:
        ingest(home)
    text = str(failed.value)
    assert "kids.csv" in text and message in text and "Fix:" in text
    assert "13812345678" not in text and "李雷" not in text
    assert lake_snapshot(home) == before
    assert audit_rows(home)[-1]["status"] == "FAILED"


def test_a_bad_date_does_not_stop_the_others(home):
    deliver(home, "kids.csv", csv_bytes([sale()]))
    bad = date(2024, 3, 2)
    deliver(home, "kids.csv", b"\xff\xfe garbage", rows=1, day=bad)
    with pytest.raises(IngestFailed) as failed:
        ingest(home, days=(DAY, bad))
    assert [p.path.parent.name for p in failed.value.problems] == ["2024-03-02"]
    assert raw(home).height == 1


def test_interrupted_swap_is_recovered(home):
    deliver(home, "kids.csv", csv_bytes([sale()]))
    ingest(home)
    partition = home.raw_lake / "sales" / "business_date=2024-03-01"
    trash = home.lake / ".trash"
    trash.mkdir(exist_ok=True)
    # A run killed between moving the old folder aside and moving the new one in.
    shutil.move(partition, trash / f"sales.{partition.name}.deadbeef")
    deliver(home, "more.csv", csv_bytes([sale(order_id="KDK202403010000009")]))
    ingest(home)
    assert sorted(raw(home)["_source_file"].to_list()) == ["kids.csv", "more.csv"]


def test_rows_read_equal_loaded_plus_quarantined_in_the_audit(home):
    rows = [sale(), sale(line_no="2", quantity="x"), sale(line_no="3", sku=""), sale()]
    deliver(home, "kids.csv", csv_bytes(rows))
    ingest(home)
    [record] = audit_rows(home)
    assert record["rows_read"] == record["rows_loaded"] + record["rows_quarantined"] == 4
    assert record["rows_quarantined"] == 3
    assert Path(home.build_db).exists()
