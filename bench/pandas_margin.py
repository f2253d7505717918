"""The peer baseline: fct_margin_daily the way analysts compute it today, in pandas, from
the same raw lake and seeds (read whole into memory, money as floats).

    .venv/bin/python -m bench.pandas_margin --home DIR

Prints JSON: seconds, the rows it computed, and how far it lands from the published
fct_margin_daily (rows missing either side, the largest difference of contribution margin).
"""

from __future__ import annotations

import argparse
import json
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
from pandas.api.types import is_object_dtype

from pipelines.settings import SEEDS_DIR, Settings

KEYS = ["business_date", "brand_code", "channel_code", "store_id", "category"]
MONEY = [
    "gross_sales",
    "discount_amount",
    "points_redeemed_value",
    "points_earned_value",
    "recognized_revenue",
    "cogs",
    "gross_margin",
    "allocated_marketing",
    "contribution_margin",
]


def _read(lake: Path, source: str, columns: list[str]) -> pd.DataFrame:
    frame = pd.read_parquet(lake / "raw" / source, columns=columns)
    for column, dtype in frame.dtypes.items():
        if is_object_dtype(dtype) and len(frame) and isinstance(frame[column].iloc[0], Decimal):
            frame[column] = frame[column].astype(float)  # DECIMAL arrives as Python Decimals
    return frame


def margin_daily(lake: Path) -> pd.DataFrame:
    sales = _read(
        lake,
        "sales",
        [
            "order_id",
            "line_no",
            "business_date",
            "brand_code",
            "channel_code",
            "store_id",
            "sku",
            "line_type",
            "quantity",
            "unit_price",
            "discount_amount",
            "points_redeemed",
            "points_earned",
            "campaign_id",
        ],
    )
    sales["business_date"] = pd.to_datetime(sales["business_date"].astype(str)).astype(
        "datetime64[us]"
    )
    inventory = _read(
        lake, "inventory", ["snapshot_date", "location_id", "sku", "on_hand_qty", "unit_cost"]
    )
    inventory["snapshot_date"] = pd.to_datetime(inventory["snapshot_date"]).astype("datetime64[us]")
    ledger = _read(
        lake, "ledger", ["posting_date", "account_code", "source_doc_id", "debit", "credit"]
    )
    products = pd.read_csv(SEEDS_DIR / "products.csv", usecols=["sku", "category"])

    # Unit costs: a location's cost per day; the group's is the location holding most stock.
    location = inventory.groupby(["snapshot_date", "location_id", "sku"], as_index=False).agg(
        unit_cost=("unit_cost", "max"), on_hand_qty=("on_hand_qty", "sum")
    )
    group = location.sort_values(
        ["snapshot_date", "sku", "on_hand_qty", "location_id"], ascending=[True, True, False, True]
    ).drop_duplicates(["snapshot_date", "sku"])[["snapshot_date", "sku", "unit_cost"]]

    lines = sales.sort_values("business_date")
    lines = pd.merge_asof(
        lines,
        location.rename(columns={"location_id": "store_id", "unit_cost": "store_cost"})
        .drop(columns="on_hand_qty")
        .sort_values("snapshot_date"),
        left_on="business_date",
        right_on="snapshot_date",
        by=["store_id", "sku"],
    ).drop(columns="snapshot_date")
    lines = pd.merge_asof(
        lines,
        group.rename(columns={"unit_cost": "group_cost"}).sort_values("snapshot_date"),
        left_on="business_date",
        right_on="snapshot_date",
        by="sku",
    ).drop(columns="snapshot_date")
    lines = lines.merge(products, on="sku", how="left")

    sign = lines["line_type"].map({"RETURN": -1}).fillna(1)
    lines["units"] = sign * lines["quantity"]
    lines["gross_sales"] = sign * lines["quantity"] * lines["unit_price"]
    lines["discount_amount"] = sign * lines["discount_amount"]
    lines["points_redeemed_value"] = sign * lines["points_redeemed"] / 100
    lines["points_earned_value"] = sign * lines["points_earned"] / 100
    lines["recognized_revenue"] = (
        lines["gross_sales"] - lines["discount_amount"] - lines["points_earned_value"]
    )
    unit_cost = lines["store_cost"].fillna(lines["group_cost"]).fillna(0)
    lines["cogs"] = (lines["units"] * unit_cost).round(2)
    lines["gross_margin"] = lines["recognized_revenue"] - lines["cogs"]

    # Marketing: each campaign-month's 6601 expense over its lines by revenue share.
    expense = ledger[(ledger["account_code"] == "6601") & ledger["source_doc_id"].notna()].copy()
    expense["month"] = pd.to_datetime(expense["posting_date"]).dt.to_period("M")
    expense["expense"] = expense["debit"] - expense["credit"]
    expense = expense.groupby(["source_doc_id", "month"], as_index=False)["expense"].sum()
    lines["month"] = lines["business_date"].dt.to_period("M")
    lines = lines.merge(
        expense.rename(columns={"source_doc_id": "campaign_id"}),
        on=["campaign_id", "month"],
        how="left",
    )
    campaign_revenue = lines.groupby(["campaign_id", "month"])["recognized_revenue"].transform(
        "sum"
    )
    lines["allocated_marketing"] = (
        (lines["expense"] * lines["recognized_revenue"] / campaign_revenue).fillna(0).round(2)
    )

    daily = lines.groupby(KEYS, as_index=False, dropna=False).agg(
        units=("units", "sum"),
        **{column: (column, "sum") for column in MONEY[:-1]},
    )
    daily["gross_margin_pct"] = daily["gross_margin"] / daily["recognized_revenue"].where(
        daily["recognized_revenue"] != 0
    )
    daily["contribution_margin"] = daily["gross_margin"] - daily["allocated_marketing"]
    return daily


def compare(daily: pd.DataFrame, marts_db: Path) -> dict:
    with duckdb.connect(str(marts_db), read_only=True) as con:
        published = con.sql(
            f"select {', '.join(KEYS)}, cast(contribution_margin as double) as published "
            "from fct_margin_daily"
        ).df()
    published["business_date"] = pd.to_datetime(published["business_date"]).astype("datetime64[us]")
    joined = daily.merge(published, on=KEYS, how="outer", indicator=True)
    both = joined[joined["_merge"] == "both"]
    return {
        "rows_only_in_pandas": int((joined["_merge"] == "left_only").sum()),
        "rows_only_published": int((joined["_merge"] == "right_only").sum()),
        "max_contribution_margin_difference": round(
            float((both["contribution_margin"] - both["published"]).abs().max()), 2
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    settings = Settings(home=parser.parse_args().home)
    started = time.perf_counter()
    daily = margin_daily(settings.lake)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "rows": len(daily), **compare(daily, settings.marts_db)}))


if __name__ == "__main__":
    main()
