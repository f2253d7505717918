"""Marketing defects: campaigns whose month of expense runs over its budget."""

from __future__ import annotations

from datetime import date

import polars as pl

from pipelines.generate.catalog import Catalog
from pipelines.generate.defects.log import DefectLog


def choose_over_budget(log: DefectLog, catalog: Catalog, days: list[date]) -> set[str]:
    first, last = days[0].strftime("%Y-%m"), days[-1].strftime("%Y-%m")
    active = catalog.campaigns.filter(
        pl.col("period").is_between(pl.lit(first), pl.lit(last))
    ).sort("campaign_id")
    total = log.count(active.height)
    picked = active[log.rng.permutation(active.height)[:total]] if total else active.head(0)
    for row in picked.sort("campaign_id").iter_rows(named=True):
        log.add(
            family="MARKETING",
            defect="OVER_BUDGET",
            source="ledger",
            campaign_id=row["campaign_id"],
            period=row["period"],
            expected="OVER_BUDGET",
        )
    return set(picked["campaign_id"].to_list())
