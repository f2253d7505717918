"""Late data for closed months (``yecai generate --late-corrections RATE``).

After a month ends, source systems still send data for it: the point of sale voids lines
it had sent (a corrected file replaces the day's file), and finance posts a late manual
journal into the month. The generator writes these deliveries apart from landing/, under
``late/<delivery date>/<source>/<business date>/…`` (the landing layout), because they
arrive after the month is closed: :func:`deliver_late` puts those due by a date into
landing/ as the source would (the data file, then its control file). The truth of what
each one changes is ``truth/late_corrections.parquet``:

- ``VOIDED_LINE``: a one-line order removed by its store's corrected file, its postings
  reversed by finance on the same date; the month's figures lose the line's units, gross
  sales and recognised revenue, and the ledger's revenue and receivables what was posted;
- ``LATE_POSTING``: a manual journal on the month's last day, Dr 1122 / Cr 6001 of 0.2 %
  of the brand's revenue that day, adding to the ledger's revenue and receivables.

A month gets late data only when the window runs past its end (delivery is the third day
of the next month, or the window's last day if sooner).
"""

from __future__ import annotations

import io
import shutil
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.ingest.landing import CONTROL_SUFFIX, deliver, partition_folder

LATE_FOLDER = "late"
TRUTH_FILE = "late_corrections.parquet"
DELIVERY_DELAY = timedelta(days=2)  # after the first day of the next month
# A late journal is this share of its brand's revenue that day: a break finance knows of,
# under the reconciliation gate's default error share (0.5 %), so the night publishes.
LATE_POSTING_SHARE = Decimal("0.002")
ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def closed_months(days: list[date]) -> list[tuple[date, date, date]]:
    """(first day, last day, delivery date) of each month the window runs past."""
    months = []
    for day in days:
        following = day + timedelta(days=1)
        if following.month != day.month and following <= days[-1]:
            first = day.replace(day=1)
            months.append((max(first, days[0]), day, min(following + DELIVERY_DELAY, days[-1])))
    return months


def make_late_corrections(
    landing: Path, home: Path, truth: Path, days: list[date], rate: float, seed: int
) -> pl.DataFrame:
    """Write the late deliveries of every month the window runs past and their truth."""
    rng = np.random.default_rng([seed, 16])
    # Orders carrying an injected defect are left alone: their truth is the defect's.
    defective = set(pl.read_parquet(truth / "defects.parquet")["order_id"].drop_nulls())
    rows: list[dict] = []
    for first, last, delivery in closed_months(days):
        late_root = home / LATE_FOLDER / delivery.isoformat()
        rows += _void_lines(landing, late_root, (first, last, delivery), rate, rng, defective)
        rows += _late_postings(landing, late_root, last, delivery)
    frame = pl.DataFrame(rows, schema=TRUTH_SCHEMA, orient="row")
    truth.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(truth / TRUTH_FILE)
    return frame


TRUTH_SCHEMA = {
    "kind": pl.String,
    "period": pl.String,
    "delivery_date": pl.Date,
    "source": pl.String,
    "business_date": pl.Date,
    "file_name": pl.String,
    "brand_code": pl.String,
    "order_id": pl.String,
    "line_no": pl.Int64,
    "units": pl.Int64,
    "gross_sales": pl.Decimal(18, 2),
    "recognized_revenue": pl.Decimal(18, 2),
    "ledger_revenue": pl.Decimal(18, 2),
    "ledger_receivables": pl.Decimal(18, 2),
}


def _void_lines(
    landing: Path,
    late_root: Path,
    month: tuple[date, date, date],
    rate: float,
    rng: np.random.Generator,
    defective: set[str],
) -> list[dict]:
    """Void a share ``rate`` of the month's plain one-line orders (no points, prescription
    or campaign: their effect on the month is the line's own) through corrected files,
    and reverse their postings on the same date (finance books the void too)."""
    first, last, delivery = month
    rows = []
    day = first
    while day <= last:
        postings = _day_postings(landing, day)
        voided: list[str] = []
        for path in sorted(partition_folder(landing, "sales", day).glob("*.csv")):
            lines = pl.read_csv(path, infer_schema=False).with_row_index("row")
            plain = (
                (pl.col("line_type") == "SALE")
                & (pl.col("points_earned") == "0")
                & (pl.col("points_redeemed") == "0")
                & pl.col("prescription_id").is_null()
                & pl.col("campaign_id").is_null()
                & (pl.len().over("order_id") == 1)
                & pl.col("order_id").is_in(postings["source_doc_id"].unique().to_list())
                & ~pl.col("order_id").is_in(list(defective))
            )
            candidates = lines.filter(plain)
            count = int(rng.binomial(candidates.height, rate)) if candidates.height else 0
            if count == 0:
                continue
            chosen = candidates.sample(count, seed=int(rng.integers(2**31)))
            kept = lines.filter(~pl.col("row").is_in(chosen["row"].to_list())).drop("row")
            _write_late_csv(late_root / "sales" / day.isoformat() / path.name, kept)
            for line in chosen.iter_rows(named=True):
                voided.append(line["order_id"])
                rows.append(_voided_truth(line, postings, path.name, day, delivery))
        if voided:
            _write_reversals(late_root, day, postings.filter(pl.col("source_doc_id").is_in(voided)))
        day += timedelta(days=1)
    return rows


def _day_postings(landing: Path, day: date) -> pl.DataFrame:
    files = sorted(partition_folder(landing, "ledger", day).glob("*.parquet"))
    return (
        pl.concat([pl.read_parquet(f) for f in files])
        if files
        else pl.DataFrame(schema={"source_doc_id": pl.String})
    )


def _voided_truth(
    line: dict, postings: pl.DataFrame, file_name: str, day: date, delivery: date
) -> dict:
    gross = int(line["quantity"]) * Decimal(line["unit_price"])
    posted = postings.filter(pl.col("source_doc_id") == line["order_id"])

    def account(code: str, sign: int) -> Decimal:
        lines = posted.filter(pl.col("account_code") == code)
        return sign * (sum(lines["debit"], ZERO) - sum(lines["credit"], ZERO))

    return {
        "kind": "VOIDED_LINE",
        "period": f"{day:%Y-%m}",
        "delivery_date": delivery,
        "source": "sales",
        "business_date": day,
        "file_name": file_name,
        "brand_code": line["brand_code"],
        "order_id": line["order_id"],
        "line_no": int(line["line_no"]),
        "units": -int(line["quantity"]),
        "gross_sales": -gross,
        "recognized_revenue": -(gross - Decimal(line["discount_amount"])),
        # the reversal takes back what was posted: revenue is a credit, receivables a debit
        "ledger_revenue": account("6001", 1),
        "ledger_receivables": -account("1122", 1),
    }


def _write_reversals(late_root: Path, day: date, originals: pl.DataFrame) -> None:
    """The voided orders' postings reversed (debit and credit swapped), same date."""
    stamp = f"{day:%Y%m%d}"
    reversal = originals.with_columns(
        ("JEVOID" + pl.col("journal_id")).alias("journal_id"),
        pl.col("credit").alias("debit"),
        pl.col("debit").alias("credit"),
        ("冲销 void: " + pl.col("description")).alias("description"),
    )
    buffer = io.BytesIO()
    reversal.write_parquet(buffer)
    name = f"gl_journal_{stamp}_void.parquet"
    deliver(late_root / "ledger" / day.isoformat() / name, buffer.getvalue(), reversal.height)


def _late_postings(landing: Path, late_root: Path, last: date, delivery: date) -> list[dict]:
    """One late manual journal per brand on the month's last day."""
    ledger = sorted(partition_folder(landing, "ledger", last).glob("*.parquet"))
    if not ledger:
        return []
    template = pl.read_parquet(ledger[0])
    # Each brand posts to the cost centre its day's postings use.
    centres = dict(
        template.filter(pl.col("brand_code").is_not_null() & pl.col("cost_center").is_not_null())
        .group_by("brand_code")
        .agg(pl.col("cost_center").min())
        .iter_rows()
    )
    revenue = dict(
        template.filter(pl.col("account_code") == "6001")
        .group_by("brand_code")
        .agg((pl.col("credit") - pl.col("debit")).sum())
        .iter_rows()
    )
    amounts = {
        brand: max(Decimal("0.01"), (revenue.get(brand, ZERO) * LATE_POSTING_SHARE).quantize(CENT))
        for brand in centres
    }
    brands = sorted(centres)
    stamp = f"{last:%Y%m%d}"
    lines = []
    for index, brand in enumerate(brands, start=1):
        journal = f"JELATE{stamp}{index:03d}"
        for line_no, (account, debit, credit) in enumerate(
            [("1122", amounts[brand], ZERO), ("6001", ZERO, amounts[brand])], start=1
        ):
            lines.append(
                {
                    "journal_id": journal,
                    "line_no": line_no,
                    "posting_date": last,
                    "account_code": account,
                    "brand_code": brand,
                    "cost_center": centres[brand],
                    "debit": debit,
                    "credit": credit,
                    "source_system": "MANUAL",
                    "source_doc_id": f"ADJ-{stamp}-{brand}",
                    "description": "月末补记 late manual posting",
                }
            )
    frame = pl.DataFrame(lines).select(
        [pl.col(name).cast(dtype) for name, dtype in template.schema.items()]
    )
    name = f"gl_journal_{stamp}_late.parquet"
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    deliver(late_root / "ledger" / last.isoformat() / name, buffer.getvalue(), frame.height)
    return [
        {
            "kind": "LATE_POSTING",
            "period": f"{last:%Y-%m}",
            "delivery_date": delivery,
            "source": "ledger",
            "business_date": last,
            "file_name": name,
            "brand_code": brand,
            "order_id": None,
            "line_no": None,
            "units": None,
            "gross_sales": None,
            "recognized_revenue": None,
            "ledger_revenue": amounts[brand],
            "ledger_receivables": amounts[brand],
        }
        for brand in brands
    ]


def _write_late_csv(path: Path, frame: pl.DataFrame) -> None:
    deliver(path, frame.write_csv().encode("utf-8"), frame.height)


def deliver_late(home: Path, landing: Path, through: date) -> list[Path]:
    """Deliver the late files due by ``through`` into landing/, as a source does: a
    replaced file's old control file goes first, the new control file last. Returns the
    data files delivered."""
    delivered = []
    root = home / LATE_FOLDER
    if not root.exists():
        return delivered
    for due in sorted(p for p in root.iterdir() if date.fromisoformat(p.name) <= through):
        for data in sorted(p for p in due.rglob("*") if p.is_file() and not _is_control(p)):
            target = landing / data.relative_to(due)
            target.parent.mkdir(parents=True, exist_ok=True)
            control = target.with_name(target.name + CONTROL_SUFFIX)
            control.unlink(missing_ok=True)
            shutil.move(data, target)
            shutil.move(data.with_name(data.name + CONTROL_SUFFIX), control)
            delivered.append(target)
        shutil.rmtree(due)
    return delivered


def _is_control(path: Path) -> bool:
    return path.name.endswith(CONTROL_SUFFIX)
