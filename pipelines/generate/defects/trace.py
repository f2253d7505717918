"""One item, one code (一物一码) defects: a code sold twice, a traceable item sold without a
code, or a unit sold from a batch that had expired."""

from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.generate.catalog import Catalog
from pipelines.generate.defects.log import TRACE_ISSUES, DefectLog
from pipelines.generate.inventory import batch_number, latest_expired_batch_index, schedule

EDIT_SCHEMA = {
    "order_key": pl.UInt32,
    "line_no": pl.Int64,
    "kind": pl.String,
    "_code": pl.String,
    "business_date": pl.Date,
    "sku": pl.String,
    "order_id": pl.String,
}


def inject_trace_defects(log: DefectLog, catalog: Catalog, lines: pl.DataFrame) -> pl.DataFrame:
    """Reuse a code, drop a code, or sell a unit from a batch that has expired."""
    coded = lines.filter(
        pl.col("trace_code").is_not_null() & ~pl.col("order_key").is_in(list(log.touched_orders))
    ).sort("order_ts", "order_id", "line_no")
    total = log.count(coded.height, len(TRACE_ISSUES))
    if total == 0:
        return lines
    # Pair each unit with the previous unit of the same sku: the copy target.
    coded = coded.with_columns(
        _rank=pl.int_range(pl.len()).over("sku"),
        _previous=pl.col("trace_code").shift(1).over("sku"),
    )
    perishable = schedule(catalog).filter(pl.col("shelf_life") > 0)["sku"]
    edits, used = _pick_edits(log, coded, perishable, max(1, total // len(TRACE_ISSUES)))
    edit_frame = _with_expired_codes(catalog, pl.DataFrame(edits, schema=EDIT_SCHEMA))
    for row in edit_frame.sort("order_key").iter_rows(named=True):
        log.add(
            family="TRACE",
            defect=row["kind"],
            source="sales",
            order_id=row["order_id"],
            line_no=row["line_no"],
            sku=row["sku"],
            trace_code=row["_code"],
            batch_no=row["_code"].rsplit("-", 1)[0] if row["_code"] else None,
            expected=row["kind"],
        )
    log.touched_orders.update(used)
    return (
        lines.join(
            edit_frame.select("order_key", "line_no", "kind", "_code"),
            on=["order_key", "line_no"],
            how="left",
            maintain_order="left",
        )
        .with_columns(
            trace_code=pl.when(pl.col("kind").is_not_null())
            .then(pl.col("_code"))
            .otherwise(pl.col("trace_code"))
        )
        .drop("kind", "_code")
    )


def _pick_edits(
    log: DefectLog, coded: pl.DataFrame, perishable: pl.Series, per_kind: int
) -> tuple[list[dict], set]:
    """The lines each issue hits (the first coded line of a picked order), and every order
    they involve. A duplicate's original must stay untouched: both orders stay out of the
    other picks."""
    duplicable = pl.col("_rank") % 2 == 1
    is_perishable = pl.col("sku").is_in(perishable.implode())
    candidates = {
        "DUPLICATE_CODE": (coded.filter(duplicable)["order_key"].to_numpy(), duplicable),
        "MISSING_CODE": (coded["order_key"].to_numpy(), pl.lit(True)),
        "EXPIRED_BATCH": (coded.filter(is_perishable)["order_key"].to_numpy(), is_perishable),
    }
    edits, used = [], set()
    for kind in TRACE_ISSUES:
        keys, condition = candidates[kind]
        pool = [k for k in log.rng.permutation(np.unique(keys)) if k not in used][:per_kind]
        rows = (
            coded.filter(pl.col("order_key").is_in(pool) & condition)
            .group_by("order_key")
            .agg(pl.all().sort_by("line_no").first())
            .sort("order_key")
        )
        for row in rows.iter_rows(named=True):
            code = None  # MISSING_CODE; EXPIRED_BATCH's code is filled from the schedule
            if kind == "DUPLICATE_CODE":
                code = row["_previous"]
                original = coded.filter(pl.col("trace_code") == code)["order_key"].to_list()
                if any(o in used or o in log.touched_orders for o in original):
                    continue
                used.update(original)
            used.add(row["order_key"])
            edits.append(
                {
                    "order_key": row["order_key"],
                    "line_no": row["line_no"],
                    "kind": kind,
                    "_code": code,
                    "business_date": row["business_date"],
                    "sku": row["sku"],
                    "order_id": row["order_id"],
                }
            )
    return edits, used


def _with_expired_codes(catalog: Catalog, edits: pl.DataFrame) -> pl.DataFrame:
    """EXPIRED_BATCH lines get a code of the sku's latest batch expired by the sale date."""
    expired = (
        edits.filter(pl.col("kind") == "EXPIRED_BATCH")
        .join(schedule(catalog), on="sku", how="left", maintain_order="left")
        .with_columns(
            _code=batch_number(latest_expired_batch_index(pl.col("business_date")))
            + "-9"
            + pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(5)
        )
        .select("order_key", "line_no", "_code")
    )
    return (
        edits.join(expired, on=["order_key", "line_no"], how="left", suffix="_expired")
        .with_columns(_code=pl.coalesce("_code", "_code_expired"))
        .drop("_code_expired")
    )
