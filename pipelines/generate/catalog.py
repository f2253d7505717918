"""What the simulated source systems know beyond the seeds: prices, costs, stock behaviour.

The warehouse never reads this: prices and costs reach it only through the extracts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from pipelines.ingest.seeds import load_seeds

# category → (min price, max price CNY, cost ratio of price, production period days,
#             shelf life days or 0, typical max quantity per line)
CATEGORY_BEHAVIOUR: dict[str, tuple[int, int, float, int, int, int]] = {
    "VEHICLE": (129_800, 329_800, 0.86, 7, 0, 1),
    "ACCESSORY": (199, 4_999, 0.55, 30, 0, 2),
    "SERVICE": (1_999, 8_999, 0.0, 0, 0, 1),
    "RX_DRUG": (18, 168, 0.62, 30, 730, 3),
    "OTC_DRUG": (9, 59, 0.58, 30, 730, 3),
    "MEDICAL_SUPPLY": (12, 49, 0.50, 30, 1095, 3),
    "HEALTH_DEVICE": (49, 399, 0.60, 60, 0, 1),
    "FORMULA": (228, 468, 0.68, 14, 540, 1),
    "DIAPER": (89, 169, 0.62, 20, 1095, 4),
    "FEEDING": (29, 199, 0.52, 30, 365, 2),
    "GEAR": (399, 2_499, 0.58, 60, 0, 1),
    "TOY": (39, 399, 0.45, 60, 0, 2),
    "APPAREL": (59, 299, 0.40, 60, 0, 3),
}
# Services priced unlike their category elsewhere (baby swimming is not a car warranty).
SUBCATEGORY_BEHAVIOUR: dict[str, tuple[int, int, float, int, int, int]] = {
    "CARE": (69, 199, 0.0, 0, 0, 1),
}
# Relative weight of a category in ordinary (non-prescription, non-vehicle) baskets.
BASKET_WEIGHT = {
    "ACCESSORY": 3.0,
    "SERVICE": 2.0,
    "OTC_DRUG": 5.0,
    "MEDICAL_SUPPLY": 2.0,
    "HEALTH_DEVICE": 0.6,
    "FORMULA": 3.0,
    "DIAPER": 4.0,
    "FEEDING": 1.5,
    "GEAR": 0.4,
    "TOY": 1.2,
    "APPAREL": 1.2,
}
EPOCH = date(2019, 1, 1)


@dataclass(frozen=True)
class Catalog:
    products: pl.DataFrame  # seeds + list_price_cents, base_cost_bp, stocked, behaviour
    stores: pl.DataFrame
    campaigns: pl.DataFrame
    brands: pl.DataFrame

    def brand_products(self, brand: str) -> pl.DataFrame:
        return self.products.filter(pl.col("brand_code") == brand)


def _stable_fraction(keys: pl.Series, salt: str) -> np.ndarray:
    """A per-key number in [0, 1) that does not depend on the seed: list prices are facts."""
    digests = [hashlib.sha256(f"{salt}:{key}".encode()).digest() for key in keys.to_list()]
    return np.array([int.from_bytes(d[:8], "big") / 2**64 for d in digests])


def load_catalog() -> Catalog:
    seeds = load_seeds()
    products = seeds["products"].with_columns(
        pl.col("is_rx") == "true",
        pl.col("is_traceable") == "true",
        pl.col("vat_rate").cast(pl.Float64),
    )
    behaviour = pl.DataFrame(
        [
            {
                "category": k,
                "price_min": v[0],
                "price_max": v[1],
                "cost_ratio": v[2],
                "batch_period": v[3],
                "shelf_life": v[4],
                "max_qty": v[5],
                "basket_weight": BASKET_WEIGHT.get(k, 0.0),
            }
            for k, v in CATEGORY_BEHAVIOUR.items()
        ]
    )
    products = products.join(behaviour, on="category", how="left", maintain_order="left")
    for subcategory, (low, high, ratio, *_rest) in SUBCATEGORY_BEHAVIOUR.items():
        override = pl.col("subcategory") == subcategory
        products = products.with_columns(
            price_min=pl.when(override).then(low).otherwise("price_min"),
            price_max=pl.when(override).then(high).otherwise("price_max"),
            cost_ratio=pl.when(override).then(ratio).otherwise("cost_ratio"),
            basket_weight=pl.when(override).then(0.5).otherwise("basket_weight"),
        )
    fraction = _stable_fraction(products["sku"], "price")
    price_yuan = products["price_min"].to_numpy() + fraction * (
        products["price_max"].to_numpy() - products["price_min"].to_numpy()
    )
    # Retail prices end in .00 or .90 (car prices in whole hundreds).
    is_vehicle = (products["category"] == "VEHICLE").to_numpy()
    price_cents = np.where(
        is_vehicle,
        np.round(price_yuan / 100) * 10_000,
        np.floor(price_yuan) * 100 + np.where(fraction > 0.5, 90, 0),
    ).astype(np.int64)
    products = products.with_columns(
        list_price_cents=pl.Series(price_cents),
        # unit cost in 1/10000 CNY (DECIMAL(18,4))
        base_cost_bp=pl.Series(
            np.round(price_cents * 100 * products["cost_ratio"].to_numpy()).astype(np.int64)
        ),
        stocked=pl.col("category") != "SERVICE",
    ).sort("sku")
    stores = seeds["stores"].with_columns(
        pl.col("license_valid_from").str.to_date(strict=False),
        pl.col("license_valid_to").str.to_date(strict=False),
    )
    campaigns = seeds["marketing_budgets"].with_columns(
        budget_cents=(pl.col("budget_amount").cast(pl.Decimal(18, 2)) * 100).cast(pl.Int64)
    )
    return Catalog(products=products, stores=stores, campaigns=campaigns, brands=seeds["brands"])


def stocking(catalog: Catalog) -> pl.DataFrame:
    """(location_id, sku) pairs that hold stock: stores, dealers, pharmacies and warehouses.

    Online shops and micro-shops hold none (their orders ship from a warehouse), so their
    lines are costed by the group-wide latest cost.
    """
    holders = catalog.stores.filter(
        pl.col("store_type").is_in(["STORE", "DEALER", "PHARMACY", "WAREHOUSE"])
    ).select("store_id", "brand_code", "store_type")
    pairs = holders.join(
        catalog.products.filter(pl.col("stocked")).select("sku", "brand_code", "category"),
        on="brand_code",
    )
    # A vehicle warehouse holds only vehicles.
    pairs = pairs.filter(
        (pl.col("store_type") != "WAREHOUSE")
        | (pl.col("brand_code").is_in(["KWH", "KDK"]))
        | (pl.col("category") == "VEHICLE")
    )
    return pairs.select(pl.col("store_id").alias("location_id"), "sku").sort("location_id", "sku")
