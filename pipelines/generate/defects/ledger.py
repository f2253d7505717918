"""Ledger defects: orders missing from the books, posted with a wrong amount or in the
wrong period, and postings naming an order that does not exist."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from pipelines.generate.defects.log import (
    DAY_BREAK_BUDGET,
    LEDGER_BREAKS,
    MATERIAL_SHARE,
    DefectLog,
    split,
)


def inject_ledger_defects(
    log: DefectLog, postings: pl.DataFrame, sale_orders: pl.DataFrame, days: list[date]
) -> pl.DataFrame:
    """Break the books for some orders: missing, wrong amount, wrong period, no order."""
    eligible = sale_orders.filter(~pl.col("order_key").is_in(list(log.touched_orders))).sort(
        "order_id"
    )
    total = log.count(eligible.height, len(LEDGER_BREAKS))
    if total == 0:
        return postings
    picks = _within_day_budget(_sized(log.rng, _pick(log.rng, eligible, total), postings, days))
    ghosts = picks.filter(pl.col("defect") == "MISSING_IN_OPERATIONS").with_columns(
        _ghost=pl.col("order_id").str.slice(0, pl.col("order_id").str.len_chars() - 7)
        + "9"
        + pl.int_range(pl.len()).cast(pl.String).str.zfill(6)
    )
    broken = picks.filter(pl.col("defect") != "MISSING_IN_OPERATIONS")
    _log(log, broken, ghosts)
    log.touched_orders.update(picks["order_key"].to_list())
    return pl.concat(
        [_changed_postings(postings, broken), _ghost_postings(postings, ghosts)],
        how="diagonal_relaxed",
    )


def _pick(rng: np.random.Generator, eligible: pl.DataFrame, total: int) -> pl.DataFrame:
    """The orders each break hits, with their brand-day and share of its revenue."""
    chosen = split(rng, eligible["order_id"].to_numpy(), total, LEDGER_BREAKS)
    return pl.concat(
        [
            pl.DataFrame(
                {"order_id": list(ids), "defect": kind},
                schema={"order_id": pl.String, "defect": pl.String},
            )
            for kind, ids in chosen.items()
        ]
    ).join(
        eligible.select(
            "order_id", "order_key", "brand_code", "business_date", "_day", "day_share"
        ),
        on="order_id",
        maintain_order="left",
    )


def _sized(
    rng: np.random.Generator, picks: pl.DataFrame, postings: pl.DataFrame, days: list[date]
) -> pl.DataFrame:
    """Where a wrong-period posting goes (_moved_to) and a wrong amount's delta (_delta).

    A wrong-period posting goes a month late (same day of the next month), else to the 1st
    of the next month, else to the last day of the previous one, whichever lies inside the
    window first; without any there is none. Posting a month late spreads long windows'
    wrong-period postings over the days: piled onto the 1st, a year's would make each 1st a
    material break, which a normal day at the default defect rate must not be. A wrong
    amount is CNY 1-50, never more than the order's share allows, understated only where
    the revenue stays positive.
    """
    first, last = days[0], days[-1]
    month_late = pl.col("business_date").dt.offset_by("1mo")
    next_month = pl.col("business_date").dt.offset_by("1mo").dt.truncate("1mo")
    previous_month_end = pl.col("business_date").dt.truncate("1mo") - pl.duration(days=1)
    revenue = postings.filter(
        (pl.col("account_code") == "6001") & (pl.col("credit_cents") > 0)
    ).select(pl.col("source_doc_id").alias("order_id"), pl.col("credit_cents").alias("_revenue"))
    cap = (picks["_day"] * MATERIAL_SHARE).cast(pl.Int64).clip(lower_bound=1)
    size = pl.Series(np.minimum(rng.integers(100, 5_001, len(picks)), cap.to_numpy()))
    lower = pl.Series(rng.random(len(picks)) < 0.5)
    return (
        picks.join(revenue, on="order_id", how="left", maintain_order="left")
        .with_columns(
            _moved_to=pl.when(pl.col("defect") != "WRONG_PERIOD")
            .then(None)
            .when(month_late <= last)
            .then(month_late)
            .when(next_month <= last)
            .then(next_month)
            .when(previous_month_end >= first)
            .then(previous_month_end),
            _delta=pl.when(pl.col("defect") == "AMOUNT_MISMATCH").then(
                pl.when(lower & (pl.col("_revenue") > 2 * size)).then(-size).otherwise(size)
            ),
        )
        .drop("_revenue")
        .filter((pl.col("defect") != "WRONG_PERIOD") | pl.col("_moved_to").is_not_null())
    )


def _within_day_budget(picks: pl.DataFrame) -> pl.DataFrame:
    """Every brand-day's books stay immaterially off: the orders broken on a day, and the
    wrong-period postings moved onto it, add up to at most DAY_BREAK_BUDGET of its revenue
    (at scale, defects at the default rate would otherwise now and then make a day
    material, which a normal day must not be)."""

    def within(day: str) -> pl.Expr:
        return pl.col("day_share").cum_sum().over("brand_code", day) <= DAY_BREAK_BUDGET

    return picks.filter(
        within("business_date") & (pl.col("_moved_to").is_null() | within("_moved_to"))
    )


def _log(log: DefectLog, broken: pl.DataFrame, ghosts: pl.DataFrame) -> None:
    for row in broken.iter_rows(named=True):
        log.add(
            family="LEDGER",
            defect=row["defect"],
            source="ledger",
            source_doc_id=row["order_id"],
            order_id=row["order_id"],
            business_date=row["business_date"],
            column_name="6001" if row["defect"] == "AMOUNT_MISMATCH" else None,
            expected=row["defect"],
        )
    for row in ghosts.iter_rows(named=True):
        log.add(
            family="LEDGER",
            defect="MISSING_IN_OPERATIONS",
            source="ledger",
            source_doc_id=row["_ghost"],
            business_date=row["business_date"],
            expected="MISSING_IN_OPERATIONS",
        )


def _ghost_postings(postings: pl.DataFrame, ghosts: pl.DataFrame) -> pl.DataFrame:
    """A copy of a real order's postings under an order number nobody sold."""
    return (
        postings.join(
            ghosts.select(pl.col("order_id").alias("source_doc_id"), "_ghost"), on="source_doc_id"
        )
        .with_columns(
            description=pl.col("description").str.replace(r"\S+$", "") + pl.col("_ghost"),
            source_doc_id=pl.col("_ghost"),
        )
        .drop("_ghost")
    )


def _changed_postings(postings: pl.DataFrame, broken: pl.DataFrame) -> pl.DataFrame:
    """The books without the missing orders, with moved and mis-stated postings."""
    changed = postings.join(
        broken.select(pl.col("order_id").alias("source_doc_id"), "defect", "_moved_to", "_delta"),
        on="source_doc_id",
        how="left",
        maintain_order="left",
    ).filter(pl.col("defect").is_null() | (pl.col("defect") != "MISSING_IN_LEDGER"))
    return changed.with_columns(
        posting_date=pl.coalesce("_moved_to", "posting_date"),
        # Revenue and receivable move together: the journal still balances.
        credit_cents=pl.when((pl.col("account_code") == "6001") & (pl.col("credit_cents") > 0))
        .then(pl.col("credit_cents") + pl.col("_delta").fill_null(0))
        .otherwise(pl.col("credit_cents")),
        debit_cents=pl.when((pl.col("account_code") == "1122") & (pl.col("debit_cents") > 0))
        .then(pl.col("debit_cents") + pl.col("_delta").fill_null(0))
        .otherwise(pl.col("debit_cents")),
    ).drop("defect", "_moved_to", "_delta")
