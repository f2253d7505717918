"""Prescription-drug defects on redemption orders: sold after the prescription expired, at
a pharmacy whose licence lapsed, or a line with no / an unknown prescription, a sku it
does not list, or more units than it allows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from pipelines.generate.catalog import Catalog
from pipelines.generate.defects.log import RX_REASONS, DefectLog

ORDER_LEVEL = RX_REASONS[:2]  # PRESCRIPTION_EXPIRED, PHARMACY_LICENSE_INVALID
LINE_LEVEL = RX_REASONS[2:]
EDIT_SCHEMA = {
    "order_key": pl.UInt32,
    "line_no": pl.Int64,
    "_rx": pl.String,
    "_clear_rx": pl.Boolean,
    "_sku": pl.String,
    "_qty": pl.Int64,
}


@dataclass(frozen=True)
class _Picks:
    """The redemption orders each reason hits, and what choosing them needed."""

    order_info: pl.DataFrame  # per redemption order: its prescription and valid-until date
    invalid_pharmacy: dict[date, list[str]]  # per date: pharmacies without a valid licence
    by_reason: dict[str, list[int]]  # reason → order keys


def inject_rx_defects(
    log: DefectLog,
    catalog: Catalog,
    orders: pl.DataFrame,
    lines: pl.DataFrame,
    consultations: pl.DataFrame,
    days: list[date],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Break prescription rules on redemption orders (before ids and money are assigned)."""
    rx_lines = lines.filter(pl.col("prescription_id").is_not_null())
    total = log.count(rx_lines.height, len(RX_REASONS))
    if total == 0:
        return orders, lines
    picks = _pick_orders(log, catalog, orders, rx_lines, consultations, days, total)
    orders = _redeem_after_expiry(log.rng, orders, picks, days[-1])
    orders = _sell_at_lapsed_pharmacies(log.rng, orders, picks)
    _log_order_level(log, rx_lines, picks)
    lines = _break_lines(log, catalog, lines, rx_lines, consultations, picks)
    return orders, lines


def _pick_orders(
    log: DefectLog,
    catalog: Catalog,
    orders: pl.DataFrame,
    rx_lines: pl.DataFrame,
    consultations: pl.DataFrame,
    days: list[date],
    total: int,
) -> _Picks:
    """Orders per reason; reasons with a condition draw from the orders that meet it,
    before the others. An order carries one reason at most."""
    rng = log.rng
    rx_orders = rx_lines["order_key"].unique().sort().to_numpy()
    validity = consultations.group_by("prescription_id").agg(pl.col("rx_valid_until").first())
    order_info = orders.filter(pl.col("order_key").is_in(rx_orders)).join(
        rx_lines.group_by("order_key")
        .agg(pl.col("prescription_id").first())
        .join(validity, on="prescription_id"),
        on="order_key",
    )
    invalid_pharmacy = _invalid_pharmacies(catalog, days)
    allowed = {
        "PRESCRIPTION_EXPIRED": order_info.filter(pl.col("rx_valid_until") < days[-1])[
            "order_key"
        ].to_numpy(),
        "PHARMACY_LICENSE_INVALID": order_info.filter(
            pl.col("business_date").is_in(list(invalid_pharmacy))
        )["order_key"].to_numpy(),
    }
    per_kind = total // len(RX_REASONS)
    used: set[int] = set()
    by_reason = {}
    for reason in RX_REASONS:
        pool = [
            int(k)
            for k in rng.permutation(np.sort(allowed.get(reason, rx_orders)))
            if int(k) not in used
        ]
        by_reason[reason] = pool[:per_kind]
        used.update(by_reason[reason])
    log.touched_orders.update(used)
    return _Picks(order_info, invalid_pharmacy, by_reason)


def _invalid_pharmacies(catalog: Catalog, days: list[date]) -> dict[date, list[str]]:
    pharmacies = catalog.stores.filter(pl.col("store_type") == "PHARMACY").sort("store_id")
    found: dict[date, list[str]] = {}
    for day in days:
        lapsed = pharmacies.filter(
            (pl.col("license_valid_from") > day) | (pl.col("license_valid_to") < day)
        )["store_id"].to_list()
        if lapsed:
            found[day] = lapsed
    return found


def _redeem_after_expiry(
    rng: np.random.Generator, orders: pl.DataFrame, picks: _Picks, last: date
) -> pl.DataFrame:
    """Move the redemption 1–5 days past the prescription's last valid day (same time of
    day, never after the window)."""
    late = (
        picks.order_info.filter(pl.col("order_key").is_in(picks.by_reason["PRESCRIPTION_EXPIRED"]))
        .select("order_key", "rx_valid_until")
        .sort("order_key")
    )
    shift = rng.integers(1, 6, late.height)
    new_dates = [
        min(v + timedelta(days=int(s)), last)
        for v, s in zip(late["rx_valid_until"], shift, strict=True)
    ]
    late = late.with_columns(_new_date=pl.Series(new_dates, dtype=pl.Date))
    local = pl.col("order_ts").dt.replace_time_zone(None)
    moved = (
        pl.col("_new_date").cast(pl.Datetime("us")) + (local - local.dt.truncate("1d"))
    ).dt.replace_time_zone("Asia/Shanghai")
    return (
        orders.join(
            late.select("order_key", "_new_date"),
            on="order_key",
            how="left",
            maintain_order="left",
        )
        .with_columns(
            order_ts=pl.when(pl.col("_new_date").is_not_null())
            .then(moved)
            .otherwise(pl.col("order_ts"))
        )
        .with_columns(business_date=pl.col("order_ts").dt.date())
        .drop("_new_date")
    )


def _sell_at_lapsed_pharmacies(
    rng: np.random.Generator, orders: pl.DataFrame, picks: _Picks
) -> pl.DataFrame:
    """Move the order to a pharmacy without a valid licence on its date."""
    lapse_info = picks.order_info.filter(
        pl.col("order_key").is_in(picks.by_reason["PHARMACY_LICENSE_INVALID"])
    ).sort("order_key")
    stores = [
        picks.invalid_pharmacy[d][int(rng.integers(0, len(picks.invalid_pharmacy[d])))]
        for d in lapse_info["business_date"]
    ]
    moved = pl.DataFrame(
        {"order_key": lapse_info["order_key"], "_store": pl.Series(stores, dtype=pl.String)}
    )
    return (
        orders.join(moved, on="order_key", how="left", maintain_order="left")
        .with_columns(store_id=pl.coalesce("_store", "store_id"))
        .drop("_store")
    )


def _log_order_level(log: DefectLog, rx_lines: pl.DataFrame, picks: _Picks) -> None:
    """Every prescription-drug line of an order-level pick is a violation."""
    for reason in ORDER_LEVEL:
        hit = rx_lines.filter(pl.col("order_key").is_in(picks.by_reason[reason]))
        for row in hit.sort("order_key", "line_no").iter_rows(named=True):
            _log_line(log, reason, row, row["sku"], row["prescription_id"])


def _log_line(log: DefectLog, reason: str, row: dict, sku: str, prescription: str | None) -> None:
    """The truth of one broken line (its order named by key until orders have ids)."""
    log.add(
        family="RX",
        defect=reason,
        source="sales",
        order_id=f"#{row['order_key']}",
        line_no=row["line_no"],
        sku=sku,
        prescription_id=prescription,
        expected=reason,
    )


def _break_lines(
    log: DefectLog,
    catalog: Catalog,
    lines: pl.DataFrame,
    rx_lines: pl.DataFrame,
    consultations: pl.DataFrame,
    picks: _Picks,
) -> pl.DataFrame:
    """Line-level reasons: one prescription-drug line per picked order is changed."""
    edits = [
        edit
        for reason in LINE_LEVEL
        for edit in _line_edits(log, catalog, rx_lines, consultations, reason, picks)
    ]
    if not edits:
        return lines
    return (
        lines.join(
            pl.DataFrame(edits, schema=EDIT_SCHEMA),
            on=["order_key", "line_no"],
            how="left",
            maintain_order="left",
        )
        .with_columns(
            prescription_id=pl.when(pl.col("_clear_rx").fill_null(False))
            .then(None)
            .otherwise(pl.coalesce("_rx", "prescription_id")),
            sku=pl.coalesce("_sku", "sku"),
            quantity=pl.coalesce("_qty", "quantity"),
        )
        .drop("_rx", "_clear_rx", "_sku", "_qty")
    )


def _line_edits(
    log: DefectLog,
    catalog: Catalog,
    rx_lines: pl.DataFrame,
    consultations: pl.DataFrame,
    reason: str,
    picks: _Picks,
) -> list[dict]:
    """The change to the first prescription-drug line of each order picked for a reason,
    each logged with the line it hits."""
    rng = log.rng
    rx_skus = catalog.products.filter(pl.col("is_rx"))["sku"].to_list()
    first_rx_line = rx_lines.group_by("order_key").agg(pl.col("line_no").min())
    prescribed = (
        consultations.filter(pl.col("prescription_id").is_not_null())
        .group_by("prescription_id")
        .agg(pl.col("rx_sku"))
    )
    targets = (
        rx_lines.join(first_rx_line, on=["order_key", "line_no"])
        .filter(pl.col("order_key").is_in(picks.by_reason[reason]))
        .join(prescribed, on="prescription_id", how="left")
        .join(
            consultations.select("prescription_id", pl.col("rx_sku").alias("sku"), "rx_max_qty"),
            on=["prescription_id", "sku"],
            how="left",
        )
        .sort("order_key")
    )
    edits = []
    for row in targets.iter_rows(named=True):
        edit = {"order_key": row["order_key"], "line_no": row["line_no"]}
        original_rx = row["prescription_id"]
        if reason == "NO_PRESCRIPTION":
            edit["_rx"], edit["_clear_rx"] = None, True
        elif reason == "UNKNOWN_PRESCRIPTION":
            edit["_rx"] = f"RX{original_rx[2:10]}9{int(rng.integers(0, 10**6)):06d}"
        elif reason == "SKU_NOT_PRESCRIBED":
            others = [s for s in rx_skus if s not in set(row["rx_sku"] or [])]
            edit["_sku"] = others[int(rng.integers(0, len(others)))]
        elif reason == "QUANTITY_EXCEEDED":
            edit["_qty"] = int(row["rx_max_qty"]) + 1
        edits.append(edit)
        prescription = edit.get("_rx", original_rx) if reason != "NO_PRESCRIPTION" else None
        _log_line(log, reason, row, edit.get("_sku", row["sku"]), prescription)
    return edits
