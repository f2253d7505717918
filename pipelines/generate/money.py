"""Prices, discounts, loyalty points, VAT and returns, in integer cents.

1 point = 1 cent (100 points = 1 CNY). Members earn 1 point per CNY paid (1 per 10 CNY on
vehicles) and spend points group-wide (积分通兑) only from what they earned before.
Rounding is half-up on non-negative integers, as finance systems round.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.generate.catalog import Catalog
from pipelines.generate.sales import SHOP_HOURS, _timestamps

RETURN_SHARE = 0.02
RETURNABLE = ["ACCESSORY", "DIAPER", "FEEDING", "GEAR", "TOY", "APPAREL", "HEALTH_DEVICE"]


def round_div(numerator: pl.Expr, denominator: int) -> pl.Expr:
    """Half-up integer division for non-negative numerators."""
    return (numerator * 2 + denominator).floordiv(2 * denominator)


def price_lines(
    rng: np.random.Generator, catalog: Catalog, lines: pl.DataFrame, members: pl.DataFrame
) -> pl.DataFrame:
    """Add unit price, discount, points, net and tax (cents) to SALE lines.

    ``lines`` carries order_id, line_no, sku, quantity, person_id, order_ts; ``members``
    maps order_id → the member_id the order shows (points need an identified member).
    """
    n = lines.height
    priced = (
        lines.join(members, on="order_id", how="left", maintain_order="left")
        .join(
            catalog.products.select("sku", "list_price_cents", "vat_rate", "category"),
            on="sku",
            how="left",
            maintain_order="left",
        )
        .with_columns(
            unit_price_cents=pl.col("list_price_cents"),
            gross_cents=pl.col("quantity") * pl.col("list_price_cents"),
            _vehicle=pl.col("category") == "VEHICLE",
            _member=pl.col("member_id").is_not_null(),
        )
    )
    discount_draw = pl.Series(rng.random(n))
    discount_rate = pl.Series(rng.uniform(0.03, 0.15, n))
    car_rate = pl.Series(rng.uniform(0.01, 0.05, n))
    priced = priced.with_columns(
        discount_cents=pl.when(pl.col("_vehicle") & (discount_draw < 0.6))
        .then(((pl.col("gross_cents") * car_rate) / 10_000).floor().cast(pl.Int64) * 10_000)
        .when(~pl.col("_vehicle") & (discount_draw < 0.25))
        .then((pl.col("gross_cents") * discount_rate).floor().cast(pl.Int64))
        .otherwise(0)
    )
    wants = pl.Series(rng.random(n) < 0.1)
    share = pl.Series(rng.uniform(0.05, 0.3, n))
    priced = priced.with_columns(
        _desired=pl.when(pl.col("_member") & wants)
        .then(
            pl.min_horizontal(
                ((pl.col("gross_cents") - pl.col("discount_cents")) * share).floor().cast(pl.Int64),
                pl.lit(100_000),
            )
        )
        .otherwise(0)
    ).sort("person_id", "order_ts", "order_id", "line_no", nulls_last=True)
    priced = _feasible_redemptions(priced)
    vat_bp = (pl.col("vat_rate") * 10_000).round(0).cast(pl.Int64)
    return priced.with_columns(
        tax_cents=round_div((pl.col("gross_cents") - pl.col("discount_cents")) * vat_bp, 10_000),
    ).drop("list_price_cents", "_desired", "_vehicle", "vat_rate")


def _earned(net: pl.Expr) -> pl.Expr:
    per_point = pl.when(pl.col("_vehicle")).then(1_000).otherwise(100)
    return pl.when(pl.col("_member")).then(net.floordiv(per_point)).otherwise(0)


def _feasible_redemptions(priced: pl.DataFrame) -> pl.DataFrame:
    """Spend only points earned on earlier lines: drop redemptions that overdraw, repeat."""
    redeemed = priced["_desired"]
    for _ in range(50):
        frame = (
            priced.with_columns(points_redeemed=redeemed)
            .with_columns(
                net_cents=pl.col("gross_cents")
                - pl.col("discount_cents")
                - pl.col("points_redeemed")
            )
            .with_columns(points_earned=_earned(pl.col("net_cents")))
        )
        overdrawn = frame.select(
            pl.col("points_redeemed").cum_sum().over("person_id")
            > (pl.col("points_earned").cum_sum().over("person_id") - pl.col("points_earned"))
        ).to_series()
        if not overdrawn.any():
            return frame
        redeemed = pl.select(pl.when(overdrawn).then(0).otherwise(redeemed)).to_series()
    raise RuntimeError("points redemptions did not settle")  # cannot happen: each pass only removes


def make_returns(
    rng: np.random.Generator, lines: pl.DataFrame, last_day
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Some lines come back 1-14 days later as RETURN orders that reverse the sale.

    Only lines without loyalty points, prescriptions or trace codes are returned: returning
    points and re-stocking coded items are not simulated.
    """
    eligible = lines.filter(
        pl.col("category").is_in(RETURNABLE)
        & (pl.col("points_earned") == 0)
        & (pl.col("points_redeemed") == 0)
        & pl.col("trace_code").is_null()
        & pl.col("prescription_id").is_null()
    )
    n = eligible.height
    delay = rng.geometric(0.25, n).clip(1, 14)
    returned_on = eligible["business_date"].to_numpy() + delay.astype("timedelta64[D]")
    keep = (rng.random(n) < RETURN_SHARE) & (returned_on <= np.datetime64(last_day))
    chosen = eligible.filter(pl.Series(keep))
    ts = _timestamps(rng, returned_on[keep], SHOP_HOURS)
    return_lines = chosen.with_columns(
        original_order_id=pl.col("order_id"),
        order_ts=ts,
        business_date=ts.dt.date(),
        line_no=pl.lit(1, pl.Int64),
    )
    return_orders = return_lines.select(
        "original_order_id",
        "order_ts",
        "business_date",
        "brand_code",
        "store_id",
        "person_id",
        "business_line",
    ).with_columns(line_type=pl.lit("RETURN"))
    return return_orders, return_lines
