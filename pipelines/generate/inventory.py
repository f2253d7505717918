"""Production batches, daily stock snapshots and moving-average unit costs.

Costs and batches are pure functions of (sku, date), not of the seed or the window, so
the same day always has the same cost and the ledger's COGS can be recomputed exactly.
The moving-average cost is kept group-wide (统一成本核算): every location holding a sku
carries the same unit cost on a given day.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from pipelines.generate.catalog import EPOCH, Catalog, _stable_fraction, stocking

EXPIRED_KEPT_DAYS = 20  # expired stock waits this long on hand for write-off


def schedule(catalog: Catalog) -> pl.DataFrame:
    """Per stocked sku: production period, shelf life, phase and cost wave phase."""
    products = catalog.products.filter(pl.col("stocked"))
    phase = _stable_fraction(products["sku"], "batch")
    wave = _stable_fraction(products["sku"], "cost")
    return products.select(
        "sku",
        "base_cost_bp",
        "category",
        pl.col("batch_period").cast(pl.Int64),
        pl.col("shelf_life").cast(pl.Int64),
        (pl.Series(phase) * pl.col("batch_period")).floor().cast(pl.Int64).alias("batch_offset"),
        pl.Series(wave * 2 * np.pi).alias("cost_phase"),
        pl.col("sku").str.replace_all("-", "").alias("batch_prefix"),
    )


def days_since_epoch(day: pl.Expr) -> pl.Expr:
    return (day - pl.lit(EPOCH)).dt.total_days()


def unit_cost_bp(day: pl.Expr) -> pl.Expr:
    """Moving-average unit cost (1/10000 CNY) of a sku on a day; needs schedule columns."""
    t = days_since_epoch(day).cast(pl.Float64)
    factor = 1 + 0.03 * (t * (2 * np.pi / 120) + pl.col("cost_phase")).sin() + 0.00004 * t
    return (pl.col("base_cost_bp") * factor).round(0).cast(pl.Int64)


def batch_number(index: pl.Expr) -> pl.Expr:
    produced = pl.lit(EPOCH) + pl.duration(
        days=pl.col("batch_offset") + index * pl.col("batch_period")
    )
    return pl.col("batch_prefix") + "-" + produced.dt.strftime("%y%m%d")


def batch_expiry(index: pl.Expr) -> pl.Expr:
    produced = pl.lit(EPOCH) + pl.duration(
        days=pl.col("batch_offset") + index * pl.col("batch_period")
    )
    return pl.when(pl.col("shelf_life") > 0).then(produced + pl.duration(days=pl.col("shelf_life")))


def current_batch_index(day: pl.Expr) -> pl.Expr:
    """The newest batch on shelves on ``day`` (produced at least a day before)."""
    return (days_since_epoch(day) - 1 - pl.col("batch_offset")).floordiv(pl.col("batch_period"))


def latest_expired_batch_index(day: pl.Expr) -> pl.Expr:
    """The batch that expired most recently before ``day`` (perishables only)."""
    return (days_since_epoch(day) - pl.col("shelf_life") - 1 - pl.col("batch_offset")).floordiv(
        pl.col("batch_period")
    )


def make_inventory(rng: np.random.Generator, catalog: Catalog, days: list[date]) -> pl.DataFrame:
    """End-of-day snapshot rows: current and previous batch, and expired stock to write off."""
    plan = schedule(catalog)
    pairs = stocking(catalog).join(plan, on="sku", how="left", maintain_order="left")
    calendar = pl.DataFrame({"snapshot_date": days})
    grid = calendar.join(pairs, how="cross").with_columns(
        _current=current_batch_index(pl.col("snapshot_date"))
    )
    current = grid.with_columns(_batch=pl.col("_current"), _kind=pl.lit("current"))
    previous = grid.with_columns(_batch=pl.col("_current") - 1, _kind=pl.lit("previous"))
    expired = (
        grid.filter(pl.col("shelf_life") > 0)
        .with_columns(
            _batch=latest_expired_batch_index(pl.col("snapshot_date")), _kind=pl.lit("expired")
        )
        .filter(
            batch_expiry(pl.col("_batch"))
            >= pl.col("snapshot_date") - pl.duration(days=EXPIRED_KEPT_DAYS)
        )
    )
    rows = pl.concat([current, previous, expired]).sort(
        "snapshot_date", "location_id", "sku", "_batch"
    )
    n = rows.height
    is_vehicle = (rows["category"] == "VEHICLE").to_numpy()
    kind = rows["_kind"].to_numpy()
    quantity = np.where(is_vehicle, rng.integers(0, 7, n), rng.integers(0, 121, n))
    quantity = np.where(kind == "expired", rng.integers(1, 11, n), quantity)
    return rows.select(
        "snapshot_date",
        "location_id",
        "sku",
        batch_number(pl.col("_batch")).alias("batch_no"),
        batch_expiry(pl.col("_batch")).alias("expiry_date"),
        pl.Series("on_hand_qty", quantity, dtype=pl.Int64),
        unit_cost_bp(pl.col("snapshot_date")).alias("unit_cost_bp"),
    )


def window(start: date, days: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(days)]
