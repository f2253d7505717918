"""Personal data where it does not belong (a data row where the header should be, a phone in
a free-text or reference column) never reaches the lake, the audit or a message."""

import io
from decimal import Decimal

import duckdb
import polars as pl
import pytest

from pipelines import pii
from pipelines.ingest.runner import IngestFailed
from tests.unit.test_ingest import (
    DAY,
    csv_bytes,
    deliver,
    ingest,
    quarantine,
    raw,
    sale,
)

PHONE, EMAIL, ID_NUMBER, NAME = "13912345678", "wang.fang@163.com", "11010519491231002X", "王芳"
PLANTED = (PHONE, "139 1234 5678", EMAIL, ID_NUMBER, NAME)


def written(home) -> str:
    """Everything ingestion wrote: the lake's values and the audit's messages."""
    texts = []
    for path in sorted(home.lake.rglob("*.parquet")):
        frame = pl.read_parquet(path)
        texts += [str(v) for c in frame.columns for v in frame[c].to_list()]
    if home.build_db.exists():
        with duckdb.connect(str(home.build_db), read_only=True) as con:
            texts += [str(r) for r in con.execute("select * from audit.ingest_files").fetchall()]
    return "\n".join(texts)


def assert_nothing_planted(*texts: str) -> None:
    for text in texts:
        for value in PLANTED:
            assert value not in text, value


def test_a_file_without_its_header_is_named_and_its_first_row_is_not_quoted(home):
    row = sale(customer_phone=PHONE, customer_email=EMAIL, customer_id_number=ID_NUMBER)
    row["customer_name"] = NAME
    headerless = csv_bytes([row, sale(line_no="2")]).split(b"\n", 1)[1]
    deliver(home, "kids.csv", headerless, rows=1)
    with pytest.raises(IngestFailed) as failed:
        ingest(home)
    assert "kids.csv: has no header row" in str(failed.value)
    assert_nothing_planted(str(failed.value), written(home))


def test_unexpected_header_names_are_quoted_only_when_they_read_like_names(home):
    content = csv_bytes([sale()]).replace(b"customer_phone", b"mobile", 1)
    content = content.replace(b"trace_code", PHONE.encode(), 1)
    deliver(home, "kids.csv", content)
    with pytest.raises(IngestFailed) as failed:
        ingest(home)
    message = str(failed.value)
    assert "missing column(s) customer_phone, trace_code" in message
    assert "mobile" in message and "1 more not shown" in message
    assert_nothing_planted(message, written(home))


@pytest.mark.parametrize(
    ("column", "value"),
    [("member_id", PHONE), ("trace_code", EMAIL), ("prescription_id", ID_NUMBER)],
)
def test_personal_data_in_a_reference_column_quarantines_the_row_unquoted(home, column, value):
    deliver(home, "kids.csv", csv_bytes([sale(**{column: value}), sale(line_no="2")]))
    [result] = ingest(home)
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    [reason] = quarantine(home)["_reason"].to_list()
    assert f"{column}:" in reason and "value withheld" in reason
    assert quarantine(home)[column].to_list() == [pii.WITHHELD]
    assert_nothing_planted(written(home))


def test_personal_data_typed_into_free_text_is_cut_out_and_the_row_loads(home):
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
            "source_system": ["MANUAL"] * 2,
            "source_doc_id": ["O1"] * 2,
            "description": [f"退款 call 139 1234 5678 / {EMAIL}", f"客户 {ID_NUMBER} 调整"],
        }
    )
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    deliver(home, "gl.parquet", buffer.getvalue(), rows=2, source="ledger")
    [result] = ingest(home, "ledger")
    assert (result.rows_loaded, result.rows_quarantined) == (2, 0)
    assert raw(home, "ledger")["description"].to_list() == [
        f"退款 call {pii.WITHHELD} / {pii.WITHHELD}",
        f"客户 {pii.WITHHELD} 调整",
    ]
    assert_nothing_planted(written(home))


def test_a_malformed_value_shaped_like_personal_data_is_not_quoted(home):
    deliver(home, "kids.csv", csv_bytes([sale(quantity=PHONE), sale(line_no="2")]))
    ingest(home)
    [reason] = quarantine(home)["_reason"].to_list()
    assert "quantity" in reason
    assert_nothing_planted(written(home))


@pytest.mark.parametrize(
    "text",
    [
        "call 138 1234 5678 now",
        "+86-138-1234-5678",
        "0086 13812345678",
        "Zhang.Wei@163.com",
        "id 110105 19491231 002X",
        "ORD13812345678X",
        "a@b.cn,13912345678;110105194912310021",
    ],
)
def test_redacted_text_holds_no_shape_the_pii_gate_would_find(text):
    assert pii.shape_names(text) and not pii.shape_names(pii.redact(text))
    frame = pl.DataFrame({"t": [text]})
    assert frame.select(pii.redact_expr(pl.col("t"))).item() == pii.redact(text)
    assert frame.select(pii.has_shape(pl.col("t"))).item()


def test_ordinary_codes_are_not_taken_for_personal_data():
    codes = [
        "KDK202611300000098",
        "销售 应收账款 KDK202611300000003",
        "RX2024030100012",
        "B24031-00017",
    ]
    frame = pl.DataFrame({"t": codes})
    assert not frame.select(pii.has_shape(pl.col("t"))).to_series().any()
    assert [pii.redact(c) for c in codes] == codes


def test_a_home_refuses_a_key_other_than_its_own(home, monkeypatch):
    from pipelines.ingest.runner import ingest_source
    from pipelines.pii import PiiKeyMismatch

    deliver(home, "kids.csv", csv_bytes([sale()]))
    ingest(home)
    before = written(home)
    other = b"another-key-0123456789abcdef-other"
    with pytest.raises(PiiKeyMismatch, match="Rotate the PII key") as refused:
        ingest_source(home, "sales", [DAY], other, "run-2")
    assert other.decode() not in str(refused.value)
    assert written(home) == before  # nothing changed
    ingest(home)  # the home's own key goes on working
