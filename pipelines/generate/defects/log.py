"""The truth log of injected defects, the defect kinds, and how many each rate gives."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

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


def split(
    rng: np.random.Generator, items: np.ndarray, total: int, kinds: list[str]
) -> dict[str, np.ndarray]:
    """Shuffle ``items``, take ``total`` and deal them round-robin to the kinds."""
    picked = rng.permutation(items)[:total]
    return {kind: picked[i :: len(kinds)] for i, kind in enumerate(kinds)}
