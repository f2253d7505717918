"""Row defects in a rendered (all-text) extract: malformed values, missing required
fields, unknown sku or store, repeated keys — each row ingestion must quarantine."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from pipelines.generate.defects.log import DAY_BREAK_BUDGET, INGEST_DEFECTS, DefectLog, split


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
    chosen = split(rng, candidates, total, kinds)
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
