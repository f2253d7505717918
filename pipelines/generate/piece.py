"""One piece of a generated window (whole months at most): people buy, consult and return,
stock moves, finance posts; defects are injected and every source is written to landing.

Each step draws from the piece's random stream in a fixed order, so the same arguments
always give the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.generate.catalog import Catalog
from pipelines.generate.defects import (
    MATERIAL_SHARE,
    DefectLog,
    choose_over_budget,
    inject_ledger_defects,
    inject_row_defects,
    inject_rx_defects,
    inject_trace_defects,
)
from pipelines.generate.identity_noise import NO_TYPOS, IdentityNoise, add_typos
from pipelines.generate.inventory import make_inventory
from pipelines.generate.ledger import line_cogs, marketing_journals, number_journals, sales_journals
from pipelines.generate.money import make_returns, price_lines
from pipelines.generate.people import Population, shown_identities, written_identities
from pipelines.generate.sales import (
    assign_ids,
    assign_trace_codes,
    attach_campaigns,
    make_consultations,
    make_sales,
)
from pipelines.generate.writer import (
    SALES_FILES,
    clear_days,
    render_consultations,
    render_inventory,
    render_ledger,
    render_sales,
    write_source,
)
from pipelines.settings import SOURCES

PENDING_SHARE = 0.01  # online order lines still awaiting payment
# A line's recognised revenue (cents), the measure brand-day shares are taken of.
REVENUE = pl.col("gross_cents") - pl.col("discount_cents")
ORDER_COLUMNS = (
    "order_key",
    "order_id",
    "order_ts",
    "business_date",
    "brand_code",
    "store_id",
    "channel_code",
    "person_id",
    "business_line",
)


@dataclass
class Piece:
    """What one piece of the window produced, for the summary and the truth."""

    orders: pl.DataFrame
    returns: pl.DataFrame
    consultations: pl.DataFrame
    identity_typos: pl.DataFrame  # record_id, identifier, change (identity_noise.py)
    counts: dict[str, int]


def generate_piece(
    landing: Path,
    scale: float,
    catalog: Catalog,
    population: Population,
    days: list[date],
    log: DefectLog,
    piece_index: int,
    noise: IdentityNoise | None = None,
) -> Piece:
    rng = log.rng
    inventory = make_inventory(rng, catalog, days)
    consultations = make_consultations(rng, population, catalog, days, scale)
    orders, lines = _orders_and_lines(
        log, catalog, population, consultations, days, scale, piece_index
    )
    shown = shown_identities(rng, _identity_records(orders, consultations), population)
    typos = NO_TYPOS
    if noise is not None:
        shown, typos = add_typos(noise, shown, stream=piece_index + 1)
    identities = written_identities(rng, shown).rename({"record_id": "identity_id"})
    all_lines, returns = _priced_with_returns(rng, catalog, lines, identities, days[-1])
    costed = line_cogs(catalog, all_lines)
    brand_day = costed.group_by("brand_code", "business_date").agg(REVENUE.sum().alias("_day"))
    small_orders = _immaterial_orders(orders, costed, brand_day)
    ledger = _ledger(log, catalog, costed, small_orders, days)
    sales_text = _sales_extract(
        log, catalog, all_lines, returns, identities, brand_day, small_orders
    )
    consult_text = inject_row_defects(
        log,
        "consultations",
        render_consultations(consultations, identities),
        consultations["rx_line_no"].is_null(),
    )
    inventory_text = inject_row_defects(
        log, "inventory", render_inventory(inventory), _inventory_eligible(inventory)
    )
    clear_days(landing, SOURCES, days)
    written = [
        *write_source(landing, "sales", sales_text, days, SALES_FILES.values(), "csv", log),
        *write_source(landing, "consultations", consult_text, days, ["consultations"], "csv", log),
        *write_source(landing, "inventory", inventory_text, days, ["wms_snapshot"], "csv", log),
        *write_source(
            landing, "ledger", render_ledger(ledger), days, ["gl_journal"], "parquet", log
        ),
    ]
    return Piece(
        orders=orders.select("order_id", "person_id"),
        returns=returns.select("order_id", "person_id"),
        consultations=consultations.select("consultation_id", "person_id"),
        identity_typos=typos,
        counts={
            "orders": orders.height + returns.height,
            "sales_lines": all_lines.height,
            "consultation_rows": consultations.height,
            "inventory_rows": inventory.height,
            "ledger_lines": ledger.height,
            "files": len(written),
        },
    )


def _resolve_order_ids(log: DefectLog, order_ids: dict[int, str]) -> None:
    """Defects logged before orders had ids name them "#<order key>": give them the id."""
    for row in log.rows:
        if row.get("order_id", "").startswith("#"):
            row["order_id"] = order_ids[int(row["order_id"][1:])]


def _orders_and_lines(
    log: DefectLog,
    catalog: Catalog,
    population: Population,
    consultations: pl.DataFrame,
    days: list[date],
    scale: float,
    piece_index: int,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Sale orders with their ids and lines, prescription and traceability defects in."""
    rng = log.rng
    sales = make_sales(rng, population, catalog, consultations, days, scale)
    orders, lines = inject_rx_defects(log, catalog, sales.orders, sales.lines, consultations, days)
    channels = catalog.stores.select("store_id", "channel_code")
    orders = assign_ids(orders).join(channels, on="store_id", how="left", maintain_order="left")
    order_ids = dict(zip(orders["order_key"].to_list(), orders["order_id"].to_list(), strict=True))
    _resolve_order_ids(log, order_ids)
    lines = lines.join(
        orders.select(*ORDER_COLUMNS), on="order_key", how="left", maintain_order="left"
    )
    lines = assign_trace_codes(rng, catalog, lines, piece_index)
    lines = inject_trace_defects(log, catalog, lines)
    _resolve_order_ids(log, order_ids)
    return orders, attach_campaigns(rng, catalog, lines)


def _identity_records(orders: pl.DataFrame, consultations: pl.DataFrame) -> pl.DataFrame:
    """Every customer record (a sale order, a consultation) in the order it happens."""
    sale_records = orders.select(
        pl.col("order_id").alias("record_id"),
        "person_id",
        "brand_code",
        pl.col("order_ts").alias("ts"),
        pl.lit("sale").alias("kind"),
        (pl.col("business_line") == "AUTO").alias("auto"),
    )
    consult_records = consultations.unique(
        "consultation_id", keep="first", maintain_order=True
    ).select(
        pl.col("consultation_id").alias("record_id"),
        "person_id",
        pl.lit("KWH").alias("brand_code"),
        pl.col("consult_ts").alias("ts"),
        pl.lit("consultation").alias("kind"),
        pl.lit(False).alias("auto"),
    )
    return pl.concat([sale_records, consult_records]).sort("ts", "record_id")


def _priced_with_returns(
    rng: np.random.Generator,
    catalog: Catalog,
    lines: pl.DataFrame,
    identities: pl.DataFrame,
    last: date,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Priced sale lines and the returns of some of them (orders of their own)."""
    priced = price_lines(
        rng, catalog, lines, identities.select(pl.col("identity_id").alias("order_id"), "member_id")
    ).drop("member_id")
    pending = pl.Series(rng.random(priced.height) < PENDING_SHARE)
    priced = priced.with_columns(
        line_type=pl.lit("SALE"),
        payment_status=pl.when((pl.col("channel_code") == "ONLINE") & pending)
        .then(pl.lit("PENDING"))
        .otherwise(pl.lit("PAID")),
        identity_id=pl.col("order_id"),
    )
    return_orders, return_lines = make_returns(rng, priced, last)
    return_orders = assign_ids(return_orders.with_row_index("order_key"), prefix="R").select(
        "order_key", "order_id"
    )
    # Return order keys live in their own range: they never collide with sale orders.
    returns = (
        return_lines.drop("order_key", "order_id")
        .with_row_index("order_key")
        .join(return_orders, on="order_key", how="left", maintain_order="left")
        .with_columns(
            line_type=pl.lit("RETURN"),
            payment_status=pl.lit("REFUNDED"),
            identity_id=pl.col("original_order_id"),
        )
    )
    all_lines = pl.concat([priced, returns.drop("original_order_id")], how="diagonal_relaxed")
    return all_lines, returns


def _immaterial_orders(
    orders: pl.DataFrame, costed: pl.DataFrame, brand_day: pl.DataFrame
) -> pl.DataFrame:
    """Orders whose loss from the books would not be material: defects that reach the books
    land on them (a missing posting for a car would be a material break, and a normal day
    must still reconcile within tolerance)."""
    order_share = (
        costed.group_by("order_id", "brand_code", "business_date")
        .agg(REVENUE.sum().alias("_order"))
        .join(brand_day, on=["brand_code", "business_date"])
        .select("order_id", (pl.col("_order") / pl.col("_day")).alias("day_share"), "_day")
    )
    return orders.join(order_share, on="order_id").filter(pl.col("day_share") <= MATERIAL_SHARE)


def _ledger(
    log: DefectLog,
    catalog: Catalog,
    costed: pl.DataFrame,
    small_orders: pl.DataFrame,
    days: list[date],
) -> pl.DataFrame:
    """Finance's journal lines: every sale and return posted, campaigns' expense, defects."""
    over_budget = choose_over_budget(log, catalog, days)
    postings = pl.concat(
        [sales_journals(costed), marketing_journals(log.rng, catalog, days, over_budget)],
        how="diagonal_relaxed",
    )
    return number_journals(inject_ledger_defects(log, postings, small_orders, days))


def _sales_extract(
    log: DefectLog,
    catalog: Catalog,
    all_lines: pl.DataFrame,
    returns: pl.DataFrame,
    identities: pl.DataFrame,
    brand_day: pl.DataFrame,
    small_orders: pl.DataFrame,
) -> pl.DataFrame:
    """The sales extract as text, with row defects on lines whose loss changes no
    compliance result and no material reconciliation."""
    returned = returns["original_order_id"].implode()
    rx_skus = catalog.products.filter(pl.col("is_rx"))["sku"].implode()
    sales_frame = all_lines.sort("order_ts", "order_id", "line_no").with_columns(
        _eligible=(pl.col("line_type") == "SALE")
        & pl.col("trace_code").is_null()
        & pl.col("prescription_id").is_null()
        & ~pl.col("sku").is_in(rx_skus)
        & ~pl.col("order_key").is_in(list(log.touched_orders))
        & ~pl.col("order_id").is_in(returned)
        & pl.col("order_id").is_in(small_orders["order_id"].implode())
    )
    sales_text = render_sales(sales_frame, identities).with_columns(sales_frame["_eligible"])
    line_day_shares = sales_frame.join(
        brand_day, on=["brand_code", "business_date"], how="left", maintain_order="left"
    ).select(
        pl.format("{}|{}", "brand_code", "business_date").alias("brand_day"),
        (REVENUE / pl.col("_day")).fill_null(0).alias("share"),
    )
    return inject_row_defects(
        log,
        "sales",
        sales_text.drop("_eligible"),
        sales_text["_eligible"],
        day_shares=(line_day_shares["brand_day"], line_day_shares["share"]),
    )


def _inventory_eligible(inventory: pl.DataFrame) -> pl.Series:
    """Snapshot rows a defect may hit: unexpired batches of a location's sku that has
    other batches that day (so its cost is still known), one row per location and sku."""
    return inventory.select(
        (pl.col("expiry_date").is_null() | (pl.col("expiry_date") >= pl.col("snapshot_date")))
        & (pl.len().over("snapshot_date", "location_id", "sku") >= 2)
        & pl.struct("snapshot_date", "location_id", "sku").is_first_distinct()
    ).to_series()
