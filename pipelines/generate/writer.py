"""Render extracts as the source systems write them, into landing/, with control files.

sales: three files a day (auto_dms, health_o2o, kids_pos CSV); consultations and inventory:
one CSV a day; ledger: one typed Parquet file a day from the finance system. A day
without rows still gets a header-only file and its control file.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import polars as pl

from pipelines.contracts import load_contract
from pipelines.generate.defects import DefectLog
from pipelines.ingest.landing import deliver, partition_folder, write_control

SALES_FILES = {"AUTO": "auto_dms", "HEALTH": "health_o2o", "KIDS": "kids_pos"}


def money(cents: pl.Expr) -> pl.Expr:
    """Non-negative integer cents as text with two decimals."""
    return cents.floordiv(100).cast(pl.String) + "." + (cents % 100).cast(pl.String).str.zfill(2)


def unit_cost(bp: pl.Expr) -> pl.Expr:
    return bp.floordiv(10_000).cast(pl.String) + "." + (bp % 10_000).cast(pl.String).str.zfill(4)


def iso_time(ts: pl.Expr) -> pl.Expr:
    return ts.dt.strftime("%Y-%m-%dT%H:%M:%S%:z")


def render_sales(lines: pl.DataFrame, identities: pl.DataFrame) -> pl.DataFrame:
    joined = lines.join(identities, on="identity_id", how="left", maintain_order="left")
    return joined.select(
        pl.col("order_id"),
        pl.col("line_no").cast(pl.String),
        iso_time(pl.col("order_ts")).alias("order_ts"),
        "brand_code",
        "channel_code",
        "store_id",
        "member_id",
        pl.col("phone").alias("customer_phone"),
        pl.col("email").alias("customer_email"),
        pl.col("name").alias("customer_name"),
        pl.col("id_number").alias("customer_id_number"),
        "sku",
        "line_type",
        pl.col("quantity").cast(pl.String),
        money(pl.col("unit_price_cents")).alias("unit_price"),
        money(pl.col("discount_cents")).alias("discount_amount"),
        pl.col("points_redeemed").cast(pl.String),
        pl.col("points_earned").cast(pl.String),
        money(pl.col("net_cents")).alias("net_amount"),
        money(pl.col("tax_cents")).alias("tax_amount"),
        "payment_status",
        "prescription_id",
        "trace_code",
        "campaign_id",
        pl.col("business_date").cast(pl.String).alias("_date"),
        pl.col("business_line").replace_strict(SALES_FILES).alias("_file_stem"),
    )


def render_consultations(consultations: pl.DataFrame, identities: pl.DataFrame) -> pl.DataFrame:
    joined = consultations.join(
        identities,
        left_on="consultation_id",
        right_on="identity_id",
        how="left",
        maintain_order="left",
    )
    return joined.select(
        "consultation_id",
        pl.col("rx_line_no").cast(pl.String),
        iso_time(pl.col("consult_ts")).alias("consult_ts"),
        "member_id",
        pl.col("phone").alias("patient_phone"),
        pl.col("name").alias("patient_name"),
        pl.col("id_number").alias("patient_id_number"),
        "doctor_id",
        "doctor_license_no",
        "hospital_id",
        "diagnosis_code",
        "prescription_id",
        "rx_sku",
        pl.col("rx_max_qty").cast(pl.String),
        pl.col("rx_valid_until").cast(pl.String),
        money(pl.col("consultation_fee_cents")).alias("consultation_fee"),
        pl.col("business_date").cast(pl.String).alias("_date"),
        pl.lit("consultations").alias("_file_stem"),
    )


def render_inventory(inventory: pl.DataFrame) -> pl.DataFrame:
    return inventory.select(
        pl.col("snapshot_date").cast(pl.String),
        "location_id",
        "sku",
        "batch_no",
        pl.col("expiry_date").cast(pl.String),
        pl.col("on_hand_qty").cast(pl.String),
        unit_cost(pl.col("unit_cost_bp")).alias("unit_cost"),
        pl.col("snapshot_date").cast(pl.String).alias("_date"),
        pl.lit("wms_snapshot").alias("_file_stem"),
    )


def render_ledger(postings: pl.DataFrame) -> pl.DataFrame:
    """Typed, as the finance system exports Parquet: DECIMAL(18,2) money, DATE posting date."""
    return postings.select(
        "journal_id",
        pl.col("line_no").cast(pl.Int32),
        "posting_date",
        "account_code",
        "brand_code",
        "cost_center",
        (pl.col("debit_cents").cast(pl.Decimal(20, 2)) / 100)
        .cast(pl.Decimal(18, 2))
        .alias("debit"),
        (pl.col("credit_cents").cast(pl.Decimal(20, 2)) / 100)
        .cast(pl.Decimal(18, 2))
        .alias("credit"),
        "source_system",
        "source_doc_id",
        "description",
        pl.col("posting_date").cast(pl.String).alias("_date"),
        pl.lit("gl_journal").alias("_file_stem"),
    )


def _file_name(stem: str, day: str, fmt: str) -> str:
    return f"{stem}_{day.replace('-', '')}.{fmt}"


def write_source(
    landing: Path,
    source: str,
    frame: pl.DataFrame,
    days: Iterable[date],
    stems: Iterable[str],
    fmt: str,
    log: DefectLog,
) -> list[Path]:
    """Write one file per (day, stem), header-only when empty; fill row numbers into the log."""
    columns = list(load_contract(source).column_names)
    if "_defect_id" not in frame.columns:
        frame = frame.with_columns(_defect_id=pl.lit(None, pl.Int64), _copy=pl.lit(False))
    frame = frame.with_row_index("_order")
    groups = frame.partition_by("_date", "_file_stem", as_dict=True)
    written = []
    located: list[dict] = []
    for day in days:
        for stem in stems:
            part = groups.get((day.isoformat(), stem), frame.head(0))
            part = part.sort("_copy", "_order").with_columns(
                _row=pl.int_range(1, pl.len() + 1, dtype=pl.Int64)
            )
            name = _file_name(stem, day.isoformat(), fmt)
            for defect_id, row in (
                part.filter(pl.col("_defect_id").is_not_null())
                .select("_defect_id", "_row")
                .iter_rows()
            ):
                located.append({"defect_id": defect_id, "file_name": name, "row_number": row})
            body = part.select(columns)
            buffer = io.BytesIO()
            if fmt == "csv":
                body.write_csv(buffer, include_header=True, null_value="")
            else:
                body.write_parquet(buffer, compression="zstd")
            path = partition_folder(landing, source, day) / name
            deliver(path, buffer.getvalue(), body.height)
            written.append(path)
    where = {d["defect_id"]: d for d in located}
    for row in log.rows:
        if row["defect_id"] in where:
            row.update(
                file_name=where[row["defect_id"]]["file_name"],
                row_number=where[row["defect_id"]]["row_number"],
            )
    return written


def clear_days(landing: Path, sources: Iterable[str], days: Iterable[date]) -> None:
    """Re-generating a day replaces what an earlier run wrote for it."""
    for source in sources:
        for day in days:
            shutil.rmtree(partition_folder(landing, source, day), ignore_errors=True)


def _control_rows(path: Path) -> int:
    return int(json.loads(path.with_name(path.name + ".ok").read_text())["rows"])


def inject_file_defects(landing: Path, log: DefectLog, days: list[date]) -> None:
    """File-level defects, each on its own file: the partition they land in must fail (or skip)."""
    rng = log.rng
    day = days[1] if len(days) > 1 else days[0]
    stamp = day.isoformat().replace("-", "")
    folder = lambda source: partition_folder(landing, source, day)  # noqa: E731

    gbk = folder("sales") / f"kids_pos_{stamp}.csv"
    content = gbk.read_bytes().decode("utf-8").encode("gb18030")
    gbk.write_bytes(content)
    write_control(gbk, content, _control_rows(gbk))
    log.add(
        family="FILE",
        defect="GBK_ENCODING",
        source="sales",
        business_date=day,
        file_name=gbk.name,
        expected="PARTITION_FAILED",
    )

    truncated = folder("sales") / f"health_o2o_{stamp}.csv"
    full = truncated.read_bytes()
    truncated.write_bytes(
        full[: int(len(full) * rng.uniform(0.4, 0.8))]
    )  # .ok keeps the full file's
    log.add(
        family="FILE",
        defect="TRUNCATED",
        source="sales",
        business_date=day,
        file_name=truncated.name,
        expected="PARTITION_FAILED",
    )

    renamed = folder("consultations") / f"consultations_{stamp}.csv"
    text = renamed.read_bytes()
    header, _, body = text.partition(b"\n")
    text = header.replace(b"patient_phone", b"mobile") + b"\n" + body
    renamed.write_bytes(text)
    write_control(renamed, text, _control_rows(renamed))
    log.add(
        family="FILE",
        defect="RENAMED_COLUMN",
        source="consultations",
        business_date=day,
        file_name=renamed.name,
        column_name="patient_phone",
        expected="PARTITION_FAILED",
    )

    original = folder("ledger") / f"gl_journal_{stamp}.parquet"
    resend = original.with_name(f"gl_journal_{stamp}_resend.parquet")
    shutil.copyfile(original, resend)
    shutil.copyfile(
        original.with_name(original.name + ".ok"), resend.with_name(resend.name + ".ok")
    )
    log.add(
        family="FILE",
        defect="DUPLICATE_DELIVERY",
        source="ledger",
        business_date=day,
        file_name=resend.name,
        expected="SKIPPED_AS_DUPLICATE",
    )
