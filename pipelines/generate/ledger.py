"""General-ledger postings of sales and returns, exactly as finance posts them (docs/product.md,
"How finance posts a sale").

Per order, one journal: Dr 1122 net + tax; Dr 2203 points redeemed / 100; Cr 6001 gross −
discount; Cr 2221 tax; Dr 6001 / Cr 2203 points earned / 100 (deferral); Dr 6401 / Cr 1405
COGS. A RETURN journal swaps every side. COGS is quantity × the moving-average cost of the
sku on the business date (the same for every location: see inventory.py), rounded per
line. Marketing expense: Dr 6601 / Cr 2202 per campaign, on a few days of its month.
"""

from __future__ import annotations

import calendar
from datetime import date

import numpy as np
import polars as pl

from pipelines.generate.catalog import Catalog
from pipelines.generate.inventory import schedule, unit_cost_bp
from pipelines.generate.money import round_div

# (account, side, amount column, description) per sales journal line
SALES_POSTINGS = [
    ("1122", "D", "ar_cents", "应收账款"),
    ("2203", "D", "points_redeemed", "积分抵扣"),
    ("6001", "C", "revenue_cents", "主营业务收入"),
    ("2221", "C", "tax_cents", "销项税额"),
    ("6001", "D", "points_earned", "积分递延收入"),
    ("2203", "C", "points_earned", "积分合同负债"),
    ("6401", "D", "cogs_cents", "结转销售成本"),
    ("1405", "C", "cogs_cents", "结转销售成本"),
]
EXPENSE_DAYS = (5, 12, 19, 26)
LEDGER_COLUMNS = [
    "journal_id",
    "line_no",
    "posting_date",
    "account_code",
    "brand_code",
    "cost_center",
    "debit_cents",
    "credit_cents",
    "source_system",
    "source_doc_id",
    "description",
]


def line_cogs(catalog: Catalog, lines: pl.DataFrame) -> pl.DataFrame:
    """cogs_cents per line: quantity × unit cost on the business date; 0 for services."""
    plan = schedule(catalog).select("sku", "base_cost_bp", "cost_phase")
    costed = lines.join(plan, on="sku", how="left", maintain_order="left")
    return costed.with_columns(
        cogs_cents=pl.when(pl.col("base_cost_bp").is_not_null())
        .then(round_div(pl.col("quantity") * unit_cost_bp(pl.col("business_date")), 100))
        .otherwise(0)
    ).drop("base_cost_bp", "cost_phase")


def source_system(business_line: pl.Expr, channel: pl.Expr) -> pl.Expr:
    return (
        pl.when(business_line == "HEALTH")
        .then(pl.lit("O2O"))
        .when(channel == "ONLINE")
        .then(pl.lit("MALL"))
        .otherwise(pl.lit("POS"))
    )


def sales_journals(lines: pl.DataFrame) -> pl.DataFrame:
    """One journal per order; ``lines`` are priced, costed lines of SALE and RETURN orders."""
    per_order = lines.group_by("order_id", maintain_order=True).agg(
        pl.col("business_date").first(),
        pl.col("order_ts").first(),
        pl.col("brand_code").first(),
        pl.col("store_id").first(),
        pl.col("channel_code").first(),
        pl.col("business_line").first(),
        pl.col("line_type").first(),
        (pl.col("net_cents") + pl.col("tax_cents")).sum().alias("ar_cents"),
        pl.col("points_redeemed").sum(),
        (pl.col("gross_cents") - pl.col("discount_cents")).sum().alias("revenue_cents"),
        pl.col("tax_cents").sum(),
        pl.col("points_earned").sum(),
        pl.col("cogs_cents").sum(),
    )
    postings = []
    for position, (account, side, amount, text) in enumerate(SALES_POSTINGS):
        is_return = pl.col("line_type") == "RETURN"
        posted_debit = pl.when(is_return).then(side == "C").otherwise(side == "D")
        postings.append(
            per_order.filter(pl.col(amount) > 0).select(
                "order_id",
                "order_ts",
                "business_date",
                "brand_code",
                "store_id",
                "channel_code",
                "business_line",
                "line_type",
                pl.lit(position).alias("_position"),
                pl.lit(account).alias("account_code"),
                pl.when(posted_debit).then(pl.col(amount)).otherwise(0).alias("debit_cents"),
                pl.when(posted_debit).then(0).otherwise(pl.col(amount)).alias("credit_cents"),
                (
                    pl.when(is_return).then(pl.lit("退货 ")).otherwise(pl.lit("销售 "))
                    + text
                    + " "
                    + pl.col("order_id")
                ).alias("description"),
            )
        )
    return (
        pl.concat(postings)
        .with_columns(
            posting_date=pl.col("business_date"),
            cost_center=pl.col("store_id"),
            source_system=source_system(pl.col("business_line"), pl.col("channel_code")),
            source_doc_id=pl.col("order_id"),
        )
        .sort("order_ts", "order_id", "_position")
    )


def marketing_journals(
    rng: np.random.Generator, catalog: Catalog, days: list[date], over_budget: set[str]
) -> pl.DataFrame:
    """Campaign spend posted on the 5th, 12th, 19th and 26th of its month, inside the window."""
    first, last = days[0], days[-1]
    rows = []
    for campaign in catalog.campaigns.sort("campaign_id").iter_rows(named=True):
        year, month = (int(x) for x in campaign["period"].split("-"))
        month_days = calendar.monthrange(year, month)[1]
        month_first, month_last = date(year, month, 1), date(year, month, month_days)
        if month_last < first or month_first > last:
            continue
        covered = (min(month_last, last) - max(month_first, first)).days + 1
        posting_days = [
            date(year, month, d) for d in EXPENSE_DAYS if first <= date(year, month, d) <= last
        ] or [max(month_first, first)]
        budget = campaign["budget_cents"]
        if campaign["campaign_id"] in over_budget:
            total = int(budget * rng.uniform(1.05, 1.3))
        else:
            total = int(budget * rng.uniform(0.6, 0.95) * covered / month_days)
        parts = [total // len(posting_days)] * len(posting_days)
        parts[-1] += total - sum(parts)
        for day, amount in zip(posting_days, parts, strict=True):
            for position, (account, debit) in enumerate((("6601", True), ("2202", False))):
                rows.append(
                    {
                        "order_ts": None,
                        "business_date": day,
                        "posting_date": day,
                        "_position": position,
                        "_doc": campaign["campaign_id"],
                        "account_code": account,
                        "brand_code": campaign["brand_code"],
                        "cost_center": f"MKT-{campaign['brand_code']}",
                        "debit_cents": amount if debit else 0,
                        "credit_cents": 0 if debit else amount,
                        "source_system": "MANUAL",
                        "source_doc_id": campaign["campaign_id"],
                        "description": f"营销费用 {campaign['campaign_name']}",
                    }
                )
    schema = {
        "order_ts": pl.Datetime("us", "Asia/Shanghai"),
        "business_date": pl.Date,
        "posting_date": pl.Date,
        "_position": pl.Int32,
        "_doc": pl.String,
        "account_code": pl.String,
        "brand_code": pl.String,
        "cost_center": pl.String,
        "debit_cents": pl.Int64,
        "credit_cents": pl.Int64,
        "source_system": pl.String,
        "source_doc_id": pl.String,
        "description": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)


def number_journals(postings: pl.DataFrame) -> pl.DataFrame:
    """Journal numbers per posting date (JE202403010000123) and line numbers from 1."""
    keyed = postings.with_columns(
        _journal_key=pl.col("source_doc_id") + "|" + pl.col("posting_date").cast(pl.String)
    )
    journals = (
        keyed.group_by("_journal_key", maintain_order=True)
        .agg(
            pl.col("posting_date").first(),
            pl.col("order_ts").first(),
            pl.col("source_doc_id").first(),
        )
        .sort("posting_date", "order_ts", "source_doc_id", nulls_last=True)
        .with_columns(
            journal_id="JE"
            + pl.col("posting_date").dt.strftime("%Y%m%d")
            + pl.int_range(1, pl.len() + 1).over("posting_date").cast(pl.String).str.zfill(7)
        )
    )
    numbered = keyed.join(
        journals.select("_journal_key", "journal_id"),
        on="_journal_key",
        how="left",
        maintain_order="left",
    )
    return (
        numbered.sort("journal_id", "_position")
        .with_columns(line_no=pl.int_range(1, pl.len() + 1).over("journal_id"))
        .select(LEDGER_COLUMNS)
    )
