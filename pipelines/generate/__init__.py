"""``yecai generate``: deterministic, realistic extracts for all four sources, with truth.

Writes ``landing/<source>/<date>/…`` exactly as the source systems would, and the ground
truth beside it in ``truth/`` (never inside landing/): the true person behind every
customer record (persons.parquet) and every injected defect with its key
(defects.parquet), so tests can assert that each defect is caught and nothing else is.
Everything is vectorised (numpy + Polars) and a pure function of the arguments.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.generate.catalog import load_catalog
from pipelines.generate.defects import (
    MATERIAL_SHARE,
    DefectLog,
    choose_over_budget,
    inject_ledger_defects,
    inject_row_defects,
    inject_rx_defects,
    inject_trace_defects,
)
from pipelines.generate.inventory import make_inventory, window
from pipelines.generate.ledger import line_cogs, marketing_journals, number_journals, sales_journals
from pipelines.generate.money import make_returns, price_lines
from pipelines.generate.people import make_population, render_identities
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
    inject_file_defects,
    render_consultations,
    render_inventory,
    render_ledger,
    render_sales,
    write_source,
)
from pipelines.settings import SOURCES, SettingsError

DEFAULT_ANOMALY_RATE = 0.003
PEOPLE_PER_SCALE = 50_000
PENDING_SHARE = 0.01
# Days x scale generated at once (~9,500 sales lines per day at scale 1, ~4 KB of memory a
# line while generating): larger windows are generated a few months at a time.
CHUNK_SCALE_DAYS = 200


@dataclass(frozen=True)
class GenerateRequest:
    start: date
    days: int
    scale: float = 1.0
    seed: int = 42
    anomalies: float = DEFAULT_ANOMALY_RATE
    file_defects: bool = False

    def __post_init__(self) -> None:
        if self.days < 1:
            raise SettingsError("--days must be at least 1")
        if self.scale <= 0:
            raise SettingsError("--scale must be above 0")
        if not 0 <= self.anomalies < 0.5:
            raise SettingsError("--anomalies is a rate between 0 and 0.5 (e.g. 0.003)")


@dataclass
class GenerateSummary:
    request: GenerateRequest
    orders: int = 0
    sales_lines: int = 0
    consultation_rows: int = 0
    inventory_rows: int = 0
    ledger_lines: int = 0
    defects: dict[str, int] = field(default_factory=dict)
    files: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict:
        data = asdict(self)
        data["request"] = {**asdict(self.request), "start": self.request.start.isoformat()}
        return data


def _identity_records(orders: pl.DataFrame, consultations: pl.DataFrame) -> pl.DataFrame:
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


def chunks(days: list[date], scale: float) -> list[list[date]]:
    """The window in pieces of whole calendar months of at most CHUNK_SCALE_DAYS (days x
    scale) each; the whole window when it fits. Memory grows with a piece, not the window."""
    if len(days) * scale <= CHUNK_SCALE_DAYS:
        return [days]
    pieces: list[list[date]] = [[]]
    for _, month in itertools.groupby(days, key=lambda day: (day.year, day.month)):
        month_days = list(month)
        if pieces[-1] and (len(pieces[-1]) + len(month_days)) * scale > CHUNK_SCALE_DAYS:
            pieces.append([])
        pieces[-1].extend(month_days)
    return pieces


@dataclass
class _Chunk:
    """What one piece of the window produced, for the summary and the truth."""

    orders: pl.DataFrame
    returns: pl.DataFrame
    consultations: pl.DataFrame
    counts: dict[str, int]


def generate(landing: Path, truth: Path, request: GenerateRequest) -> GenerateSummary:
    """Write the window's extracts and truth. A window too large for memory is generated in
    pieces of whole months (CHUNK_SCALE_DAYS), the same people throughout; each piece is
    self-contained (prescriptions are redeemed, orders returned and books posted within it)."""
    started = time.perf_counter()
    rng = np.random.default_rng(request.seed)
    catalog = load_catalog()
    days = window(request.start, request.days)
    population = make_population(rng, max(500, int(PEOPLE_PER_SCALE * request.scale)))
    log = DefectLog(rate=request.anomalies, rng=rng)
    parts = []
    for index, piece in enumerate(chunks(days, request.scale)):
        # The first piece draws from the main stream, so a window that fits is unchanged.
        log.rng = rng if index == 0 else np.random.default_rng([request.seed, index])
        log.touched_orders = set()
        parts.append(_generate_days(landing, request, catalog, population, piece, log, index))
    if request.file_defects:
        inject_file_defects(landing, log, days)
    summary = GenerateSummary(
        request=request,
        orders=sum(p.counts["orders"] for p in parts),
        sales_lines=sum(p.counts["sales_lines"] for p in parts),
        consultation_rows=sum(p.counts["consultation_rows"] for p in parts),
        inventory_rows=sum(p.counts["inventory_rows"] for p in parts),
        ledger_lines=sum(p.counts["ledger_lines"] for p in parts),
        defects=dict(log.frame().group_by("family").len().sort("family").iter_rows()),
        files=sum(p.counts["files"] for p in parts),
    )
    _write_truth(
        truth,
        pl.concat([p.orders for p in parts]),
        pl.concat([p.returns for p in parts]),
        pl.concat([p.consultations for p in parts]),
        log,
        summary,
    )
    summary.seconds = round(time.perf_counter() - started, 2)
    return summary


def _generate_days(
    landing: Path,
    request: GenerateRequest,
    catalog,
    population,
    days: list[date],
    log: DefectLog,
    piece_index: int,
) -> _Chunk:
    rng = log.rng
    last = days[-1]
    inventory = make_inventory(rng, catalog, days)
    consultations = make_consultations(rng, population, catalog, days, request.scale)
    sales = make_sales(rng, population, catalog, consultations, days, request.scale)
    orders, lines = inject_rx_defects(log, catalog, sales.orders, sales.lines, consultations, days)
    channels = catalog.stores.select("store_id", "channel_code")
    orders = assign_ids(orders).join(channels, on="store_id", how="left", maintain_order="left")
    order_ids = dict(zip(orders["order_key"].to_list(), orders["order_id"].to_list(), strict=True))
    for row in log.rows:
        if row.get("order_id", "").startswith("#"):
            row["order_id"] = order_ids[int(row["order_id"][1:])]
    lines = lines.join(
        orders.select(
            "order_key",
            "order_id",
            "order_ts",
            "business_date",
            "brand_code",
            "store_id",
            "channel_code",
            "person_id",
            "business_line",
        ),
        on="order_key",
        how="left",
        maintain_order="left",
    )
    lines = assign_trace_codes(rng, catalog, lines, piece_index)
    lines = inject_trace_defects(log, catalog, lines)
    for row in log.rows:
        if row.get("order_id", "").startswith("#"):
            row["order_id"] = order_ids[int(row["order_id"][1:])]
    lines = attach_campaigns(rng, catalog, lines)

    identities = render_identities(
        rng, _identity_records(orders, consultations), population
    ).rename({"record_id": "identity_id"})
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
    return_orders, return_lines = make_returns(rng, orders, priced, last)
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
    costed = line_cogs(catalog, all_lines)

    over_budget = choose_over_budget(log, catalog, days)
    postings = pl.concat(
        [sales_journals(costed), marketing_journals(rng, catalog, days, over_budget)],
        how="diagonal_relaxed",
    )
    # Defects that reach the books land on ordinary orders: a missing posting for a car
    # would be a material break, and a normal day must still reconcile within tolerance.
    revenue = pl.col("gross_cents") - pl.col("discount_cents")
    brand_day = costed.group_by("brand_code", "business_date").agg(revenue.sum().alias("_day"))
    order_share = (
        costed.group_by("order_id", "brand_code", "business_date")
        .agg(revenue.sum().alias("_order"))
        .join(brand_day, on=["brand_code", "business_date"])
        .select("order_id", (pl.col("_order") / pl.col("_day")).alias("day_share"), "_day")
    )
    small_orders = orders.join(order_share, on="order_id").filter(
        pl.col("day_share") <= MATERIAL_SHARE
    )
    postings = inject_ledger_defects(log, postings, small_orders, days)
    ledger = number_journals(postings)

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
        (revenue / pl.col("_day")).fill_null(0).alias("share"),
    )
    sales_text = inject_row_defects(
        log,
        "sales",
        sales_text.drop("_eligible"),
        sales_text["_eligible"],
        day_shares=(line_day_shares["brand_day"], line_day_shares["share"]),
    )
    consult_text = render_consultations(consultations, identities)
    consult_text = inject_row_defects(
        log, "consultations", consult_text, consultations["rx_line_no"].is_null()
    )
    inventory_eligible = inventory.select(
        (pl.col("expiry_date").is_null() | (pl.col("expiry_date") >= pl.col("snapshot_date")))
        & (pl.len().over("snapshot_date", "location_id", "sku") >= 2)
        & pl.struct("snapshot_date", "location_id", "sku").is_first_distinct()
    ).to_series()
    inventory_text = inject_row_defects(
        log, "inventory", render_inventory(inventory), inventory_eligible
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
    return _Chunk(
        orders=orders.select("order_id", "person_id"),
        returns=returns.select("order_id", "person_id"),
        consultations=consultations.select("consultation_id", "person_id"),
        counts={
            "orders": orders.height + returns.height,
            "sales_lines": all_lines.height,
            "consultation_rows": consultations.height,
            "inventory_rows": inventory.height,
            "ledger_lines": ledger.height,
            "files": len(written),
        },
    )


def _write_truth(
    truth: Path,
    orders: pl.DataFrame,
    returns: pl.DataFrame,
    consultations: pl.DataFrame,
    log: DefectLog,
    summary: GenerateSummary,
) -> None:
    truth.mkdir(parents=True, exist_ok=True)
    persons = pl.concat(
        [
            orders.select(
                pl.lit("sales").alias("source"), pl.col("order_id").alias("record_id"), "person_id"
            ),
            returns.select(
                pl.lit("sales").alias("source"), pl.col("order_id").alias("record_id"), "person_id"
            ),
            consultations.unique("consultation_id", keep="first", maintain_order=True).select(
                pl.lit("consultations").alias("source"),
                pl.col("consultation_id").alias("record_id"),
                "person_id",
            ),
        ]
    ).sort("source", "record_id")
    persons.write_parquet(truth / "persons.parquet")
    log.frame().sort("defect_id").write_parquet(truth / "defects.parquet")
    (truth / "generation.json").write_text(
        json.dumps(summary.to_json(), indent=2), encoding="utf-8"
    )
