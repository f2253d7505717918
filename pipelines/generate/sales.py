"""Consultations with prescriptions, and the orders people place across brands and channels.

Volumes at ``scale`` 1: about 4,000 orders (10,000 order lines) and 250 online
consultations a day, more at weekends. Amounts are integers in cents until written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from pipelines.generate.catalog import Catalog
from pipelines.generate.inventory import batch_number, current_batch_index, schedule
from pipelines.generate.people import Population, choose_people
from pipelines.settings import BUSINESS_TIMEZONE

ORDERS_PER_DAY = 4_000
CONSULTATIONS_PER_DAY = 250
LINE_MIX = {"KIDS": 0.60, "HEALTH": 0.34, "AUTO": 0.06}
AUTO_BRAND_MIX = {"AUR": 0.4, "MER": 0.35, "VEL": 0.25}
ONLINE_SHARE = 0.35
ANONYMOUS_SHARE = 0.06  # walk-in store and pharmacy buyers who give no identifier
CAR_ORDER_SHARE = 0.35
REDEMPTION_SHARE = 0.82
RX_ONLINE_SHARE = 0.4
CAMPAIGN_SHARE = 0.25
SHOP_HOURS = np.array(
    [0, 0, 0, 0, 0, 0, 0, 1, 3, 6, 8, 9, 9, 8, 8, 9, 9, 9, 10, 10, 9, 6, 3, 1], float
)
CONSULT_HOURS = np.array(
    [1, 0, 0, 0, 0, 0, 1, 3, 6, 8, 9, 9, 7, 7, 8, 8, 8, 8, 9, 10, 10, 8, 5, 2], float
)
# ICD-10 codes by the therapeutic subcategory of the drugs they call for.
DIAGNOSES = {
    "ANTIBIOTIC": ["J02.9", "J20.9", "N39.0", "J01.9"],
    "DIABETES": ["E11.9", "E11.65"],
    "CARDIOVASCULAR": ["I10", "E78.5", "I25.1"],
    "GASTROINTESTINAL": ["K21.9", "K29.7"],
    "RESPIRATORY": ["J45.9", "J30.4"],
}
ACUTE = {"ANTIBIOTIC", "GASTROINTESTINAL"}  # prescriptions valid 7 days, chronic ones 30
HOSPITALS = ["IH-KWH-01", "IH-KWH-02", "IH-PARTNER-03", "IH-PARTNER-04"]
TZ = ZoneInfo(BUSINESS_TIMEZONE)


@dataclass
class Sales:
    orders: pl.DataFrame
    lines: pl.DataFrame
    consultations: pl.DataFrame


def _weekday_factor(days: list[date]) -> np.ndarray:
    return np.array([1.3 if d.weekday() >= 5 else 0.9 for d in days])


def _timestamps(rng: np.random.Generator, days: np.ndarray, hours: np.ndarray) -> pl.Series:
    """Local (Asia/Shanghai) timestamps on the given days, by an hour-of-day profile."""
    hour = rng.choice(24, days.size, p=hours / hours.sum())
    seconds = hour * 3600 + rng.integers(0, 3600, days.size)
    midnight = days.astype("datetime64[s]")
    naive = pl.Series((midnight + seconds.astype("timedelta64[s]")).astype("datetime64[us]"))
    return naive.dt.replace_time_zone(BUSINESS_TIMEZONE)


def _day_counts(rng: np.random.Generator, days: list[date], per_day: float) -> np.ndarray:
    """Day index per record: Poisson volume with a weekend lift."""
    counts = rng.poisson(per_day * _weekday_factor(days))
    return np.repeat(np.arange(len(days)), counts)


def always_valid_pharmacies(catalog: Catalog, first: date, last: date) -> list[str]:
    valid = catalog.stores.filter(
        (pl.col("store_type") == "PHARMACY")
        & (pl.col("license_valid_from") <= first)
        & (pl.col("license_valid_to") >= last)
    )
    return valid["store_id"].to_list()


def selling_stores(catalog: Catalog, brand: str, first: date, last: date) -> list[str]:
    stores = catalog.stores.filter(
        (pl.col("brand_code") == brand) & (pl.col("store_type") != "WAREHOUSE")
    )
    if brand == "KWH":
        keep = set(always_valid_pharmacies(catalog, first, last)) | {f"{brand}-ONL"}
        stores = stores.filter(pl.col("store_id").is_in(keep))
    return stores["store_id"].to_list()


def _pick_stores(rng: np.random.Generator, stores: list[str], n: int) -> np.ndarray:
    online = [s for s in stores if s.endswith("-ONL")]
    offline = [s for s in stores if not s.endswith("-ONL")]
    weights = np.array(
        [ONLINE_SHARE / len(online)] * len(online)
        + [(1 - ONLINE_SHARE) / len(offline)] * len(offline)
    )
    return np.array(online + offline)[rng.choice(len(stores), n, p=weights / weights.sum())]


def make_consultations(
    rng: np.random.Generator,
    population: Population,
    catalog: Catalog,
    days: list[date],
    scale: float,
) -> pl.DataFrame:
    """One row per consultation and prescribed item (one row with empty rx_ for none)."""
    day_index = _day_counts(rng, days, CONSULTATIONS_PER_DAY * scale)
    n = day_index.size
    day_values = np.array(days, dtype="datetime64[D]")[day_index]
    consult_ts = _timestamps(rng, day_values, CONSULT_HOURS)
    rx_products = catalog.products.filter(pl.col("is_rx"))
    subcategories = sorted(DIAGNOSES)
    subcategory = np.array(subcategories)[rng.integers(0, len(subcategories), n)]
    alt = rng.random(n)
    diagnosis = np.array(
        [DIAGNOSES[s][int(a * len(DIAGNOSES[s]))] for s, a in zip(subcategory, alt, strict=True)]
    )
    has_rx = rng.random(n) < 0.65
    rx_lines = np.where(has_rx, rng.choice([1, 2, 3], n, p=[0.6, 0.3, 0.1]), 0)
    doctor = rng.integers(0, 300, n)
    frame = pl.DataFrame(
        {
            "_day": day_index,
            "consult_ts": consult_ts,
            "person_id": choose_people(rng, population, "buys_health", n),
            "subcategory": subcategory,
            "diagnosis_code": diagnosis,
            "_rx_lines": rx_lines,
            "doctor_id": np.char.add("DR", np.char.zfill(doctor.astype(str), 5)),
            "doctor_license_no": np.char.add(
                "1103", np.char.zfill((doctor * 7_919_111 % 10**11).astype(str), 11)
            ),
            "hospital_id": np.array(HOSPITALS)[doctor % len(HOSPITALS)],
            "consultation_fee_cents": rng.choice(
                [0, 1990, 2900, 4900], n, p=[0.3, 0.35, 0.25, 0.1]
            ),
        }
    ).sort("consult_ts", maintain_order=True)
    frame = frame.with_columns(
        business_date=pl.col("consult_ts").dt.date(),
        _seq=pl.int_range(1, pl.len() + 1).over(pl.col("consult_ts").dt.date()),
    ).with_columns(
        consultation_id="CS"
        + pl.col("business_date").dt.strftime("%Y%m%d")
        + pl.col("_seq").cast(pl.String).str.zfill(7),
        prescription_id=pl.when(pl.col("_rx_lines") > 0).then(
            "RX"
            + pl.col("business_date").dt.strftime("%Y%m%d")
            + pl.col("_seq").cast(pl.String).str.zfill(7)
        ),
    )
    # Explode to prescribed items: distinct drugs of the diagnosis' subcategory.
    items = (
        frame.filter(pl.col("_rx_lines") > 0)
        .with_columns(rx_line_no=pl.int_ranges(1, pl.col("_rx_lines") + 1))
        .explode("rx_line_no")
    )
    by_sub = {
        s: rx_products.filter(pl.col("subcategory") == s)["sku"].to_list() for s in subcategories
    }
    offsets = rng.integers(0, 1_000, items.height)
    skus = [
        by_sub[s][(o + line - 1) % len(by_sub[s])]
        for s, o, line in zip(items["subcategory"], offsets, items["rx_line_no"], strict=True)
    ]
    m = items.height
    items = items.with_columns(
        rx_sku=pl.Series(skus, dtype=pl.String),
        rx_max_qty=pl.Series(rng.integers(1, 4, m)),
        rx_valid_until=pl.col("business_date")
        + pl.duration(days=pl.when(pl.col("subcategory").is_in(list(ACUTE))).then(7).otherwise(30)),
    )
    # Distinct drugs per prescription (a subcategory may have fewer than three).
    items = items.unique(subset=["consultation_id", "rx_sku"], keep="first", maintain_order=True)
    items = items.with_columns(rx_line_no=pl.int_range(1, pl.len() + 1).over("consultation_id"))
    plain = frame.filter(pl.col("_rx_lines") == 0).with_columns(
        rx_line_no=pl.lit(None, pl.Int64),
        rx_sku=pl.lit(None, pl.String),
        rx_max_qty=pl.lit(None, pl.Int64),
        rx_valid_until=pl.lit(None, pl.Date),
    )
    columns = [
        "consultation_id",
        "rx_line_no",
        "consult_ts",
        "business_date",
        "person_id",
        "doctor_id",
        "doctor_license_no",
        "hospital_id",
        "diagnosis_code",
        "prescription_id",
        "rx_sku",
        "rx_max_qty",
        "rx_valid_until",
        "consultation_fee_cents",
        "subcategory",
    ]
    return pl.concat([items.select(columns), plain.select(columns)]).sort(
        "consult_ts", "consultation_id", "rx_line_no", nulls_last=False
    )


def _orders_of_line(
    rng: np.random.Generator,
    population: Population,
    catalog: Catalog,
    days: list[date],
    line: str,
    day_index: np.ndarray,
) -> pl.DataFrame:
    n = day_index.size
    first, last = days[0], days[-1]
    flag = {"KIDS": "buys_kids", "HEALTH": "buys_health", "AUTO": "buys_auto"}[line]
    person = choose_people(rng, population, flag, n)
    if line == "AUTO":
        brands = np.array(list(AUTO_BRAND_MIX))[
            rng.choice(len(AUTO_BRAND_MIX), n, p=list(AUTO_BRAND_MIX.values()))
        ]
    else:
        brands = np.full(n, "KDK" if line == "KIDS" else "KWH")
    store = np.empty(n, dtype=object)
    for brand in np.unique(brands):
        chosen = brands == brand
        store[chosen] = _pick_stores(rng, selling_stores(catalog, brand, first, last), chosen.sum())
    is_online = np.char.endswith(store.astype(str), "-ONL")
    anonymous = (line != "AUTO") & ~is_online & (rng.random(n) < ANONYMOUS_SHARE)
    person[anonymous] = -1
    day_values = np.array(days, dtype="datetime64[D]")[day_index]
    return pl.DataFrame(
        {
            "order_ts": _timestamps(rng, day_values, SHOP_HOURS),
            "brand_code": brands,
            "store_id": store.astype(str),
            "person_id": person,
            "business_line": np.full(n, line),
            "is_car_order": (line == "AUTO") & (rng.random(n) < CAR_ORDER_SHARE),
            "prescription_id": pl.Series([None] * n, dtype=pl.String),
        }
    ).with_columns(pl.when(pl.col("person_id") >= 0).then(pl.col("person_id")).alias("person_id"))


def _basket_lines(rng: np.random.Generator, catalog: Catalog, orders: pl.DataFrame) -> pl.DataFrame:
    """Ordinary lines: vehicles for car orders, then weighted picks from the brand's range."""
    n = orders.height
    extra = np.where(
        orders["business_line"].to_numpy() == "KIDS",
        rng.poisson(1.6, n),
        rng.poisson(0.8, n),
    )
    count = np.minimum(1 + extra, 8)
    lines = (
        orders.select("order_key", "brand_code", "is_car_order")
        .with_columns(line_no=pl.int_ranges(1, pl.Series(count) + 1))
        .explode("line_no")
    )
    lines = lines.with_columns(_vehicle=pl.col("is_car_order") & (pl.col("line_no") == 1))
    skus = np.empty(lines.height, dtype=object)
    brand_arr = lines["brand_code"].to_numpy()
    vehicle = lines["_vehicle"].to_numpy()
    for brand in np.unique(brand_arr):
        range_ = catalog.brand_products(brand)
        basket = range_.filter(pl.col("basket_weight") > 0)
        weights = basket["basket_weight"].to_numpy()
        chosen = (brand_arr == brand) & ~vehicle
        skus[chosen] = basket["sku"].to_numpy()[
            rng.choice(basket.height, chosen.sum(), p=weights / weights.sum())
        ]
        cars = range_.filter(pl.col("category") == "VEHICLE")["sku"].to_numpy()
        chosen_cars = (brand_arr == brand) & vehicle
        if chosen_cars.any():
            skus[chosen_cars] = cars[rng.integers(0, len(cars), chosen_cars.sum())]
    return lines.select("order_key", "line_no", pl.Series("sku", skus.astype(str)))


def _rx_orders(
    rng: np.random.Generator, catalog: Catalog, consultations: pl.DataFrame, days: list[date]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Orders redeeming prescriptions at a partner pharmacy or online, 0-30 days later."""
    last = days[-1]
    prescriptions = (
        consultations.filter(pl.col("prescription_id").is_not_null())
        .group_by("prescription_id", maintain_order=True)
        .agg(
            pl.col("consult_ts").first(),
            pl.col("person_id").first(),
            pl.col("business_date").first(),
            pl.col("rx_valid_until").first(),
        )
    )
    n = prescriptions.height
    validity = (
        (prescriptions["rx_valid_until"] - prescriptions["business_date"])
        .dt.total_days()
        .to_numpy()
    )
    delay = np.minimum(rng.geometric(0.45, n) - 1, validity)
    redeemed_on = prescriptions["business_date"].to_numpy() + delay.astype("timedelta64[D]")
    redeem = (rng.random(n) < REDEMPTION_SHARE) & (redeemed_on <= np.datetime64(last))
    pharmacies = always_valid_pharmacies(catalog, days[0], last)
    online = rng.random(n) < RX_ONLINE_SHARE
    store = np.where(online, "KWH-ONL", np.array(pharmacies)[rng.integers(0, len(pharmacies), n)])
    # Same day: after the consultation; later days: shop hours.
    consult = prescriptions["consult_ts"].dt.replace_time_zone(None).to_numpy()
    end_of_day = consult.astype("datetime64[D]") + np.timedelta64(86_399, "s")
    same_day = consult + ((end_of_day - consult) * rng.random(n)).astype("timedelta64[s]")
    later = _timestamps(rng, redeemed_on, SHOP_HOURS).dt.replace_time_zone(None).to_numpy()
    ts = np.where(delay == 0, same_day.astype("datetime64[us]"), later.astype("datetime64[us]"))
    orders = prescriptions.with_columns(
        order_ts=pl.Series(ts).dt.replace_time_zone(BUSINESS_TIMEZONE),
        brand_code=pl.lit("KWH"),
        store_id=pl.Series(store),
        business_line=pl.lit("HEALTH"),
        is_car_order=pl.lit(False),
    ).filter(pl.Series(redeem))
    items = consultations.filter(
        pl.col("prescription_id").is_in(orders["prescription_id"].implode())
    )
    m = items.height
    lines = items.select(
        "prescription_id",
        pl.col("rx_line_no").alias("line_no"),
        pl.col("rx_sku").alias("sku"),
        pl.Series("quantity", rng.integers(1, 4, m)).clip(upper_bound=items["rx_max_qty"]),
    )
    # Some add an over-the-counter item to the basket.
    otc = catalog.products.filter(pl.col("category").is_in(["OTC_DRUG", "MEDICAL_SUPPLY"]))["sku"]
    adds = orders.select("prescription_id").filter(pl.Series(rng.random(orders.height) < 0.3))
    extra = adds.join(
        lines.group_by("prescription_id").agg(pl.col("line_no").max()),
        on="prescription_id",
        maintain_order="left",
    ).select(
        "prescription_id",
        (pl.col("line_no") + 1).alias("line_no"),
        pl.Series("sku", otc.to_numpy()[rng.integers(0, otc.len(), adds.height)]),
        pl.lit(None, pl.Int64).alias("quantity"),
        pl.lit(True).alias("_otc"),
    )
    lines = pl.concat([lines.with_columns(_otc=pl.lit(False)), extra], how="diagonal_relaxed")
    return orders.drop("consult_ts", "business_date", "rx_valid_until"), lines


def make_sales(
    rng: np.random.Generator,
    population: Population,
    catalog: Catalog,
    consultations: pl.DataFrame,
    days: list[date],
    scale: float,
) -> Sales:
    """SALE orders and lines before money, defects and returns."""
    day_index = _day_counts(rng, days, ORDERS_PER_DAY * scale)
    line_of = np.array(list(LINE_MIX))[
        rng.choice(len(LINE_MIX), day_index.size, p=list(LINE_MIX.values()))
    ]
    regular = pl.concat(
        [
            _orders_of_line(rng, population, catalog, days, line, day_index[line_of == line])
            for line in LINE_MIX
        ]
    ).with_row_index("order_key")
    basket = _basket_lines(rng, catalog, regular)
    rx_orders, rx_lines = _rx_orders(rng, catalog, consultations, days)
    rx_orders = rx_orders.with_row_index("order_key", offset=regular.height)
    rx_lines = (
        rx_lines.join(
            rx_orders.select("prescription_id", "order_key"),
            on="prescription_id",
            maintain_order="left",
        )
        .with_columns(prescription_id=pl.when(~pl.col("_otc")).then(pl.col("prescription_id")))
        .drop("_otc")
    )
    orders = pl.concat([regular, rx_orders], how="diagonal_relaxed")
    lines = pl.concat(
        [basket.with_columns(prescription_id=pl.lit(None, pl.String)), rx_lines],
        how="diagonal_relaxed",
    )
    orders = orders.with_columns(business_date=pl.col("order_ts").dt.date())
    lines = _quantities(rng, catalog, lines)
    return Sales(orders=orders, lines=lines, consultations=consultations)


def _quantities(rng: np.random.Generator, catalog: Catalog, lines: pl.DataFrame) -> pl.DataFrame:
    lines = lines.join(
        catalog.products.select("sku", "max_qty", "is_traceable"), on="sku", maintain_order="left"
    )
    n = lines.height
    drawn = np.minimum(rng.geometric(0.6, n), lines["max_qty"].to_numpy())
    return lines.with_columns(
        quantity=pl.when(pl.col("is_traceable"))
        .then(1)
        .otherwise(pl.coalesce(pl.col("quantity"), pl.Series(drawn)))
        .cast(pl.Int64)
    ).drop("max_qty", "is_traceable")


def assign_ids(orders: pl.DataFrame, prefix: str = "") -> pl.DataFrame:
    """Order numbers per brand and day in time order: KDK20240301000123."""
    orders = orders.sort("order_ts", "order_key")
    return orders.with_columns(
        order_id=pl.lit(prefix)
        + pl.col("brand_code")
        + pl.col("business_date").dt.strftime("%Y%m%d")
        + pl.int_range(1, pl.len() + 1)
        .over("brand_code", "business_date")
        .cast(pl.String)
        .str.zfill(7)
    )


# Serials of one piece of a window generated in pieces (generate.chunks) start here per
# piece, so a batch sold across two pieces never repeats a code.
SERIALS_PER_PIECE = 100_000


def assign_trace_codes(
    rng: np.random.Generator, catalog: Catalog, lines: pl.DataFrame, piece: int = 0
) -> pl.DataFrame:
    """One code per traceable unit: <batch_no>-<serial>, serials in sale order per batch."""
    plan = schedule(catalog)
    traceable = catalog.products.filter(pl.col("is_traceable"))["sku"].implode()
    marked = lines.with_columns(_traceable=pl.col("sku").is_in(traceable))
    older = pl.Series(rng.random(marked.height) < 0.3)
    coded = (
        marked.join(
            plan.select("sku", "batch_offset", "batch_period", "batch_prefix", "shelf_life"),
            on="sku",
            how="left",
            maintain_order="left",
        )
        .with_columns(
            _batch=current_batch_index(pl.col("business_date"))
            - pl.when(older).then(1).otherwise(0)
        )
        .with_columns(_batch_no=batch_number(pl.col("_batch")))
        .sort("order_ts", "order_id", "line_no")
        .with_columns(_serial=pl.int_range(1, pl.len() + 1).over("_batch_no"))
    )
    if (coded.filter(pl.col("_traceable"))["_serial"].max() or 0) >= SERIALS_PER_PIECE:
        raise ValueError("a batch sells more units in one piece than its serials allow")
    coded = coded.with_columns(pl.col("_serial") + piece * SERIALS_PER_PIECE)
    return coded.with_columns(
        trace_code=pl.when(pl.col("_traceable")).then(
            pl.col("_batch_no") + "-" + pl.col("_serial").cast(pl.String).str.zfill(6)
        )
    ).drop(
        "batch_offset",
        "batch_period",
        "batch_prefix",
        "shelf_life",
        "_batch",
        "_batch_no",
        "_serial",
    )


def attach_campaigns(
    rng: np.random.Generator, catalog: Catalog, lines: pl.DataFrame
) -> pl.DataFrame:
    """A quarter of lines are attributed to one of their brand's campaigns that month."""
    campaigns = catalog.campaigns.select("campaign_id", "brand_code", "period")
    options = campaigns.group_by("brand_code", "period").agg(pl.col("campaign_id").sort())
    n = lines.height
    with_options = lines.with_columns(period=pl.col("business_date").dt.strftime("%Y-%m")).join(
        options, on=["brand_code", "period"], how="left", maintain_order="left"
    )
    pick = pl.Series(rng.random(n))
    attributed = pl.Series(rng.random(n) < CAMPAIGN_SHARE)
    return with_options.with_columns(
        campaign_id=pl.when(attributed & pl.col("campaign_id").is_not_null()).then(
            pl.col("campaign_id").list.get(
                (pick * pl.col("campaign_id").list.len()).floor().cast(pl.Int64), null_on_oob=True
            )
        )
    ).drop("period")
