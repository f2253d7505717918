"""Real-world defects at a controlled rate, each recorded with its key in the truth log.

Families (``--anomalies RATE`` is the share of eligible records hit, with at least one of
every kind when the rate is above zero and something is eligible):

- INGEST: malformed values, missing required fields, unknown sku or store, duplicate keys
  (sales, consultations, inventory) — ingestion must quarantine exactly these rows.
- RX: prescription-drug lines with no / unknown / expired / over-quantity / wrong-sku
  prescriptions, or sold at a pharmacy whose licence lapsed.
- TRACE: duplicate trace codes, traceable items without a code, expired batches sold.
- LEDGER: orders missing from the ledger, wrong amounts, postings in the wrong period,
  postings with no order.
- MARKETING: campaigns over budget.
- FILE (on request): GBK-encoded file, truncated file, renamed column, same file twice.

Defects never overlap: an order carries at most one, and ingest defects avoid lines whose
loss would change a compliance result, so each defect has exactly one expected outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import polars as pl

from pipelines.generate.catalog import Catalog
from pipelines.generate.inventory import (
    batch_number,
    latest_expired_batch_index,
    schedule,
)

# Largest share of its brand-day's revenue an order carrying a ledger defect may have.
MATERIAL_SHARE = 0.001
# Of a brand-day's revenue, for ledger defects and (apart) for quarantined sales lines: the
# reconciliation gate errs above 0.5 %.
DAY_BREAK_BUDGET = 0.0015
RX_REASONS = [
    "PRESCRIPTION_EXPIRED",
    "PHARMACY_LICENSE_INVALID",
    "NO_PRESCRIPTION",
    "UNKNOWN_PRESCRIPTION",
    "SKU_NOT_PRESCRIBED",
    "QUANTITY_EXCEEDED",
]
TRACE_ISSUES = ["DUPLICATE_CODE", "MISSING_CODE", "EXPIRED_BATCH"]
LEDGER_BREAKS = ["MISSING_IN_LEDGER", "AMOUNT_MISMATCH", "WRONG_PERIOD", "MISSING_IN_OPERATIONS"]
INGEST_DEFECTS = {
    "sales": [
        "MALFORMED_VALUE",
        "MISSING_REQUIRED",
        "UNKNOWN_SKU",
        "UNKNOWN_STORE",
        "DUPLICATE_KEY",
    ],
    "consultations": ["MALFORMED_VALUE", "MISSING_REQUIRED", "DUPLICATE_KEY"],
    "inventory": ["MALFORMED_VALUE", "MISSING_REQUIRED", "DUPLICATE_KEY"],
}
FILE_DEFECTS = ["GBK_ENCODING", "TRUNCATED", "RENAMED_COLUMN", "DUPLICATE_DELIVERY"]
TRUTH_SCHEMA = {
    "family": pl.String,
    "defect": pl.String,
    "source": pl.String,
    "business_date": pl.Date,
    "file_name": pl.String,
    "row_number": pl.Int64,
    "order_id": pl.String,
    "line_no": pl.Int64,
    "consultation_id": pl.String,
    "location_id": pl.String,
    "sku": pl.String,
    "batch_no": pl.String,
    "trace_code": pl.String,
    "prescription_id": pl.String,
    "source_doc_id": pl.String,
    "campaign_id": pl.String,
    "period": pl.String,
    "column_name": pl.String,
    "expected": pl.String,
    "defect_id": pl.Int64,
}


@dataclass
class DefectLog:
    rate: float
    rng: np.random.Generator
    rows: list[dict] = field(default_factory=list)
    touched_orders: set = field(default_factory=set)

    def count(self, eligible: int, kinds: int = 1) -> int:
        """How many of ``eligible`` records get a defect, at least one per kind."""
        if self.rate <= 0 or eligible == 0:
            return 0
        return min(eligible, max(kinds, int(self.rng.binomial(eligible, self.rate))))

    def add(self, **values) -> int:
        defect_id = len(self.rows) + 1
        self.rows.append({**values, "defect_id": defect_id})
        return defect_id

    def frame(self) -> pl.DataFrame:
        return (
            pl.DataFrame(self.rows, schema=TRUTH_SCHEMA)
            if self.rows
            else pl.DataFrame(schema=TRUTH_SCHEMA)
        )


def _split(
    rng: np.random.Generator, items: np.ndarray, total: int, kinds: list[str]
) -> dict[str, np.ndarray]:
    """Shuffle ``items``, take ``total`` and deal them round-robin to the kinds."""
    picked = rng.permutation(items)[:total]
    return {kind: picked[i :: len(kinds)] for i, kind in enumerate(kinds)}


def inject_rx_defects(
    log: DefectLog,
    catalog: Catalog,
    orders: pl.DataFrame,
    lines: pl.DataFrame,
    consultations: pl.DataFrame,
    days: list[date],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Break prescription rules on redemption orders (before ids and money are assigned)."""
    rng = log.rng
    last = days[-1]
    rx_skus = catalog.products.filter(pl.col("is_rx"))["sku"].to_list()
    rx_lines = lines.filter(pl.col("prescription_id").is_not_null())
    rx_orders = rx_lines["order_key"].unique().sort().to_numpy()
    total = log.count(rx_lines.height, len(RX_REASONS))
    if total == 0:
        return orders, lines
    validity = consultations.group_by("prescription_id").agg(pl.col("rx_valid_until").first())
    order_info = orders.filter(pl.col("order_key").is_in(rx_orders)).join(
        rx_lines.group_by("order_key")
        .agg(pl.col("prescription_id").first())
        .join(validity, on="prescription_id"),
        on="order_key",
    )
    can_expire = order_info.filter(pl.col("rx_valid_until") < last)["order_key"].to_numpy()
    invalid_pharmacy = _invalid_pharmacies(catalog, days)
    can_lapse = order_info.filter(pl.col("business_date").is_in(list(invalid_pharmacy)))[
        "order_key"
    ].to_numpy()
    per_kind = total // len(RX_REASONS)
    used: set[int] = set()

    def take(kind: str, allowed: np.ndarray = rx_orders) -> list[int]:
        """Kinds with a condition draw from the orders that meet it, before the others."""
        pool = [int(k) for k in rng.permutation(np.sort(allowed)) if int(k) not in used]
        picked = pool[:per_kind]
        used.update(picked)
        return picked

    expire = take("PRESCRIPTION_EXPIRED", can_expire)
    lapse = take("PHARMACY_LICENSE_INVALID", can_lapse)
    line_level = {kind: take(kind) for kind in RX_REASONS[2:]}

    # Order-level: move the redemption past the prescription's last day / to a lapsed pharmacy.
    late = (
        order_info.filter(pl.col("order_key").is_in(expire))
        .select("order_key", "rx_valid_until")
        .sort("order_key")
    )
    shift = rng.integers(1, 6, late.height)
    new_dates = [
        min(v + timedelta(days=int(s)), last)
        for v, s in zip(late["rx_valid_until"], shift, strict=True)
    ]
    late = late.with_columns(_new_date=pl.Series(new_dates, dtype=pl.Date))
    orders = orders.join(
        late.select("order_key", "_new_date"), on="order_key", how="left", maintain_order="left"
    )
    orders = (
        orders.with_columns(
            order_ts=pl.when(pl.col("_new_date").is_not_null())
            .then(
                (
                    pl.col("_new_date").cast(pl.Datetime("us"))
                    + (
                        pl.col("order_ts").dt.replace_time_zone(None)
                        - pl.col("order_ts").dt.replace_time_zone(None).dt.truncate("1d")
                    )
                ).dt.replace_time_zone("Asia/Shanghai")
            )
            .otherwise(pl.col("order_ts"))
        )
        .with_columns(business_date=pl.col("order_ts").dt.date())
        .drop("_new_date")
    )
    lapse_info = order_info.filter(pl.col("order_key").is_in(lapse)).sort("order_key")
    lapse_store = [
        invalid_pharmacy[d][int(rng.integers(0, len(invalid_pharmacy[d])))]
        for d in lapse_info["business_date"]
    ]
    orders = (
        orders.join(
            pl.DataFrame(
                {
                    "order_key": lapse_info["order_key"],
                    "_store": pl.Series(lapse_store, dtype=pl.String),
                }
            ),
            on="order_key",
            how="left",
            maintain_order="left",
        )
        .with_columns(store_id=pl.coalesce("_store", "store_id"))
        .drop("_store")
    )
    for kind, keys in (("PRESCRIPTION_EXPIRED", expire), ("PHARMACY_LICENSE_INVALID", lapse)):
        for row in (
            rx_lines.filter(pl.col("order_key").is_in(keys))
            .sort("order_key", "line_no")
            .iter_rows(named=True)
        ):
            log.add(
                family="RX",
                defect=kind,
                source="sales",
                order_id=f"#{row['order_key']}",
                line_no=row["line_no"],
                sku=row["sku"],
                prescription_id=row["prescription_id"],
                expected=kind,
            )
    log.touched_orders.update(expire + lapse)

    # Line-level: one prescription-drug line per order.
    first_rx_line = rx_lines.group_by("order_key").agg(pl.col("line_no").min())
    prescribed = (
        consultations.filter(pl.col("prescription_id").is_not_null())
        .group_by("prescription_id")
        .agg(pl.col("rx_sku"))
    )
    edits = []
    for kind, keys in line_level.items():
        targets = (
            rx_lines.join(first_rx_line, on=["order_key", "line_no"])
            .filter(pl.col("order_key").is_in(keys))
            .join(prescribed, on="prescription_id", how="left")
            .join(
                consultations.select(
                    "prescription_id", pl.col("rx_sku").alias("sku"), "rx_max_qty"
                ),
                on=["prescription_id", "sku"],
                how="left",
            )
            .sort("order_key")
        )
        for row in targets.iter_rows(named=True):
            edit = {"order_key": row["order_key"], "line_no": row["line_no"]}
            original_rx = row["prescription_id"]
            if kind == "NO_PRESCRIPTION":
                edit["_rx"], edit["_clear_rx"] = None, True
            elif kind == "UNKNOWN_PRESCRIPTION":
                edit["_rx"] = f"RX{original_rx[2:10]}9{int(rng.integers(0, 10**6)):06d}"
            elif kind == "SKU_NOT_PRESCRIBED":
                others = [s for s in rx_skus if s not in set(row["rx_sku"] or [])]
                edit["_sku"] = others[int(rng.integers(0, len(others)))]
            elif kind == "QUANTITY_EXCEEDED":
                edit["_qty"] = int(row["rx_max_qty"]) + 1
            edits.append(edit)
            log.add(
                family="RX",
                defect=kind,
                source="sales",
                order_id=f"#{row['order_key']}",
                line_no=row["line_no"],
                sku=edit.get("_sku", row["sku"]),
                prescription_id=edit.get("_rx", original_rx) if kind != "NO_PRESCRIPTION" else None,
                expected=kind,
            )
    log.touched_orders.update(k for keys in line_level.values() for k in keys)
    if edits:
        edit_frame = pl.DataFrame(
            edits,
            schema={
                "order_key": pl.UInt32,
                "line_no": pl.Int64,
                "_rx": pl.String,
                "_clear_rx": pl.Boolean,
                "_sku": pl.String,
                "_qty": pl.Int64,
            },
        )
        lines = (
            lines.join(edit_frame, on=["order_key", "line_no"], how="left", maintain_order="left")
            .with_columns(
                prescription_id=pl.when(pl.col("_clear_rx").fill_null(False))
                .then(None)
                .otherwise(pl.coalesce("_rx", "prescription_id")),
                sku=pl.coalesce("_sku", "sku"),
                quantity=pl.coalesce("_qty", "quantity"),
            )
            .drop("_rx", "_clear_rx", "_sku", "_qty")
        )
    return orders, lines


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


def inject_trace_defects(log: DefectLog, catalog: Catalog, lines: pl.DataFrame) -> pl.DataFrame:
    """Reuse a code, drop a code, or sell a unit from a batch that has expired."""
    rng = log.rng
    coded = lines.filter(
        pl.col("trace_code").is_not_null() & ~pl.col("order_key").is_in(list(log.touched_orders))
    ).sort("order_ts", "order_id", "line_no")
    total = log.count(coded.height, len(TRACE_ISSUES))
    if total == 0:
        return lines
    # Pair each unit with the previous unit of the same sku: the copy target.
    coded = coded.with_columns(_rank=pl.int_range(pl.len()).over("sku"))
    previous_code = coded.with_columns(_previous=pl.col("trace_code").shift(1).over("sku"))
    perishable = schedule(catalog).filter(pl.col("shelf_life") > 0)["sku"]
    candidates = {
        "DUPLICATE_CODE": previous_code.filter(pl.col("_rank") % 2 == 1)["order_key"].to_numpy(),
        "MISSING_CODE": coded["order_key"].to_numpy(),
        "EXPIRED_BATCH": coded.filter(pl.col("sku").is_in(perishable.implode()))[
            "order_key"
        ].to_numpy(),
    }
    per_kind = max(1, total // len(TRACE_ISSUES))
    edits, used = [], set()
    # A duplicate's original must stay untouched: keep both orders out of the other picks.
    for kind in TRACE_ISSUES:
        pool = [k for k in rng.permutation(np.unique(candidates[kind])) if k not in used][:per_kind]
        rows = previous_code.filter(pl.col("order_key").is_in(pool))
        if kind == "DUPLICATE_CODE":
            rows = rows.filter(pl.col("_rank") % 2 == 1)
        elif kind == "EXPIRED_BATCH":
            rows = rows.filter(pl.col("sku").is_in(perishable.implode()))
        rows = rows.group_by("order_key").agg(pl.all().sort_by("line_no").first()).sort("order_key")
        for row in rows.iter_rows(named=True):
            if kind == "DUPLICATE_CODE":
                code = row["_previous"]
                original = coded.filter(pl.col("trace_code") == code)["order_key"].to_list()
                if any(o in used or o in log.touched_orders for o in original):
                    continue
                used.update(original)
            elif kind == "MISSING_CODE":
                code = None
            else:
                code = None  # filled below from the batch schedule
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
    edit_frame = pl.DataFrame(
        edits,
        schema={
            "order_key": pl.UInt32,
            "line_no": pl.Int64,
            "kind": pl.String,
            "_code": pl.String,
            "business_date": pl.Date,
            "sku": pl.String,
            "order_id": pl.String,
        },
    )
    expired = (
        edit_frame.filter(pl.col("kind") == "EXPIRED_BATCH")
        .join(schedule(catalog), on="sku", how="left", maintain_order="left")
        .with_columns(
            _code=batch_number(latest_expired_batch_index(pl.col("business_date")))
            + "-9"
            + pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(5)
        )
        .select("order_key", "line_no", "_code")
    )
    edit_frame = (
        edit_frame.join(expired, on=["order_key", "line_no"], how="left", suffix="_expired")
        .with_columns(_code=pl.coalesce("_code", "_code_expired"))
        .drop("_code_expired")
    )
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


def inject_ledger_defects(
    log: DefectLog, postings: pl.DataFrame, sale_orders: pl.DataFrame, days: list[date]
) -> pl.DataFrame:
    """Break the books for some orders: missing, wrong amount, wrong period, no order."""
    rng = log.rng
    first, last = days[0], days[-1]
    eligible = sale_orders.filter(~pl.col("order_key").is_in(list(log.touched_orders))).sort(
        "order_id"
    )
    total = log.count(eligible.height, len(LEDGER_BREAKS))
    if total == 0:
        return postings
    chosen = _split(rng, eligible["order_id"].to_numpy(), total, LEDGER_BREAKS)
    picks = pl.concat(
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
    # A wrong-period posting goes a month late (same day of the next month), else to the 1st
    # of the next month, else to the last day of the previous one, whichever lies inside
    # the window first; without any there is none. Posting a month late spreads long windows'
    # wrong-period postings over the days: piled onto the 1st, a year's would make each 1st
    # a material break, which a normal day at the default defect rate must not be.
    month_late = pl.col("business_date").dt.offset_by("1mo")
    next_month = pl.col("business_date").dt.offset_by("1mo").dt.truncate("1mo")
    previous_month_end = pl.col("business_date").dt.truncate("1mo") - pl.duration(days=1)
    revenue = postings.filter(
        (pl.col("account_code") == "6001") & (pl.col("credit_cents") > 0)
    ).select(pl.col("source_doc_id").alias("order_id"), pl.col("credit_cents").alias("_revenue"))
    # A wrong amount of CNY 1-50, never more than the order's share allows.
    cap = (picks["_day"] * MATERIAL_SHARE).cast(pl.Int64).clip(lower_bound=1)
    size = pl.Series(np.minimum(rng.integers(100, 5_001, len(picks)), cap.to_numpy()))
    lower = pl.Series(rng.random(len(picks)) < 0.5)
    picks = (
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
            # Understated only where the revenue stays positive.
            _delta=pl.when(pl.col("defect") == "AMOUNT_MISMATCH").then(
                pl.when(lower & (pl.col("_revenue") > 2 * size)).then(-size).otherwise(size)
            ),
        )
        .drop("_revenue")
        .filter((pl.col("defect") != "WRONG_PERIOD") | pl.col("_moved_to").is_not_null())
    )

    # Every brand-day's books stay immaterially off: the orders broken on a day, and the
    # wrong-period postings moved onto it, add up to at most DAY_BREAK_BUDGET of its revenue
    # (at scale, defects at the default rate would otherwise now and then make a day
    # material, which a normal day must not be).
    def within_budget(day: str) -> pl.Expr:
        return pl.col("day_share").cum_sum().over("brand_code", day) <= DAY_BREAK_BUDGET

    picks = picks.filter(
        within_budget("business_date")
        & (pl.col("_moved_to").is_null() | within_budget("_moved_to"))
    )
    ghosts = picks.filter(pl.col("defect") == "MISSING_IN_OPERATIONS").with_columns(
        _ghost=pl.col("order_id").str.slice(0, pl.col("order_id").str.len_chars() - 7)
        + "9"
        + pl.int_range(pl.len()).cast(pl.String).str.zfill(6)
    )
    for row in picks.filter(pl.col("defect") != "MISSING_IN_OPERATIONS").iter_rows(named=True):
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
    ghost_postings = (
        postings.join(
            ghosts.select(pl.col("order_id").alias("source_doc_id"), "_ghost"), on="source_doc_id"
        )
        .with_columns(
            description=pl.col("description").str.replace(r"\S+$", "") + pl.col("_ghost"),
            source_doc_id=pl.col("_ghost"),
        )
        .drop("_ghost")
    )
    changed = postings.join(
        picks.filter(pl.col("defect") != "MISSING_IN_OPERATIONS").select(
            pl.col("order_id").alias("source_doc_id"), "defect", "_moved_to", "_delta"
        ),
        on="source_doc_id",
        how="left",
        maintain_order="left",
    ).filter(pl.col("defect").is_null() | (pl.col("defect") != "MISSING_IN_LEDGER"))
    changed = changed.with_columns(
        posting_date=pl.coalesce("_moved_to", "posting_date"),
        # Revenue and receivable move together: the journal still balances.
        credit_cents=pl.when((pl.col("account_code") == "6001") & (pl.col("credit_cents") > 0))
        .then(pl.col("credit_cents") + pl.col("_delta").fill_null(0))
        .otherwise(pl.col("credit_cents")),
        debit_cents=pl.when((pl.col("account_code") == "1122") & (pl.col("debit_cents") > 0))
        .then(pl.col("debit_cents") + pl.col("_delta").fill_null(0))
        .otherwise(pl.col("debit_cents")),
    ).drop("defect", "_moved_to", "_delta")
    log.touched_orders.update(picks["order_key"].to_list())
    return pl.concat([changed, ghost_postings], how="diagonal_relaxed")


def inject_row_defects(
    log: DefectLog,
    source: str,
    text: pl.DataFrame,
    eligible: pl.Series,
    day_shares: tuple[pl.Series, pl.Series] | None = None,
) -> pl.DataFrame:
    """Corrupt some rows of a rendered (all-text) extract; tag them with their defect id.

    ``eligible`` marks rows that may be hit. Duplicates are appended as exact copies.
    ``day_shares`` (each row's brand-day and its share of that day's revenue): the rows
    quarantined for a brand-day take at most DAY_BREAK_BUDGET of its revenue out of the
    books' comparison, so the day still reconciles within the gate's threshold.
    """
    rng = log.rng
    kinds = INGEST_DEFECTS[source]
    text = text.with_columns(_defect_id=pl.lit(None, pl.Int64), _copy=pl.lit(False))
    candidates = np.flatnonzero(eligible.to_numpy())
    total = log.count(candidates.size, len(kinds))
    if total == 0:
        return text
    chosen = _split(rng, candidates, total, kinds)
    if day_shares is not None:
        chosen = _within_day_budget(chosen, *day_shares)
    updates: dict[str, list] = {}
    copies = []
    for kind, rows in chosen.items():
        for index in sorted(int(r) for r in rows):
            row = text.row(index, named=True)
            column, value = _corruption(rng, source, kind, row)
            key = _row_key(source, row)
            defect_id = log.add(
                family="INGEST",
                defect=kind,
                source=source,
                business_date=date.fromisoformat(row["_date"]),
                column_name=column,
                expected="QUARANTINED",
                **key,
            )
            if kind == "DUPLICATE_KEY":
                copies.append(
                    text[index].with_columns(
                        _defect_id=pl.lit(defect_id, pl.Int64), _copy=pl.lit(True)
                    )
                )
            else:
                updates.setdefault(column, []).append((index, value))
                updates.setdefault("_defect_id", []).append((index, defect_id))
    for column, changes in updates.items():
        indices = [i for i, _ in changes]
        values = pl.Series([v for _, v in changes], dtype=text.schema[column])
        text = text.with_columns(text[column].scatter(indices, values))
    return pl.concat([text, *copies]) if copies else text


def _within_day_budget(
    chosen: dict[str, np.ndarray], days: pl.Series, shares: pl.Series
) -> dict[str, np.ndarray]:
    """Drop picks (in order) once their brand-day's quarantined revenue share would pass
    the budget; a duplicate key takes nothing away (the first copy loads)."""
    day_of, share_of = days.to_numpy(), shares.to_numpy()
    spent: dict = {}
    kept = {}
    for kind, rows in chosen.items():
        if kind == "DUPLICATE_KEY":
            kept[kind] = rows
            continue
        keep = []
        for row in rows:
            day = day_of[row]
            if spent.get(day, 0.0) + share_of[row] <= DAY_BREAK_BUDGET:
                spent[day] = spent.get(day, 0.0) + share_of[row]
                keep.append(row)
        kept[kind] = np.array(keep, dtype=rows.dtype)
    return kept


def _row_key(source: str, row: dict) -> dict:
    if source == "sales":
        return {"order_id": row["order_id"], "line_no": int(row["line_no"])}
    if source == "consultations":
        return {"consultation_id": row["consultation_id"]}
    return {"location_id": row["location_id"], "sku": row["sku"], "batch_no": row["batch_no"]}


def _corruption(
    rng: np.random.Generator, source: str, kind: str, row: dict
) -> tuple[str | None, str | None]:
    """Which column a defect hits and the text it leaves there."""
    pick = int(rng.integers(0, 4))
    if kind == "DUPLICATE_KEY":
        return None, None
    if source == "sales":
        if kind == "MALFORMED_VALUE":
            options = [
                ("quantity", f"{row['quantity']}件"),
                ("unit_price", f"¥{row['unit_price']}"),
                ("order_ts", row["order_ts"][:19].replace("-", "/").replace("T", " ")),
                ("discount_amount", "N/A"),
            ]
            return options[pick]
        if kind == "MISSING_REQUIRED":
            return [("sku", ""), ("store_id", ""), ("line_type", ""), ("net_amount", "")][pick]
        if kind == "UNKNOWN_SKU":
            return "sku", f"{row['brand_code']}-ZZ{pick}{int(rng.integers(10, 99))}"
        if kind == "UNKNOWN_STORE":
            return "store_id", f"{row['brand_code']}-X{int(rng.integers(10, 99))}"
    if source == "consultations":
        if kind == "MALFORMED_VALUE":
            return [
                ("consult_ts", row["consult_ts"][:10] + "T25:61:00+08:00"),
                ("consultation_fee", "免费"),
                ("consult_ts", row["consult_ts"][:16]),
                ("consultation_fee", "19.9.0"),
            ][pick]
        if kind == "MISSING_REQUIRED":
            return [
                ("doctor_id", ""),
                ("hospital_id", ""),
                ("diagnosis_code", ""),
                ("doctor_license_no", ""),
            ][pick]
    if source == "inventory":
        if kind == "MALFORMED_VALUE":
            return [
                ("unit_cost", "12.34.56"),
                ("on_hand_qty", "-"),
                ("snapshot_date", "2024/13/01"),
                ("expiry_date", "31-12-2025"),
            ][pick]
        if kind == "MISSING_REQUIRED":
            return [("unit_cost", ""), ("on_hand_qty", ""), ("unit_cost", ""), ("on_hand_qty", "")][
                pick
            ]
    raise ValueError(f"no corruption for {source} {kind}")
