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
from pipelines.generate.defects import DefectLog
from pipelines.generate.identity_noise import IdentityNoise, with_life_changes
from pipelines.generate.inventory import window
from pipelines.generate.late import make_late_corrections
from pipelines.generate.people import Population, make_population
from pipelines.generate.piece import generate_piece
from pipelines.generate.writer import inject_file_defects
from pipelines.settings import DEFAULT_IDENTITY_NOISE, SettingsError

DEFAULT_ANOMALY_RATE = 0.003
PEOPLE_PER_SCALE = 50_000
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
    late_corrections: float = 0.0  # share of a closed month's sale lines voided late
    identity_noise: float = DEFAULT_IDENTITY_NOISE  # dirty identifiers (identity_noise.py)

    def __post_init__(self) -> None:
        if self.days < 1:
            raise SettingsError("--days must be at least 1")
        if self.scale <= 0:
            raise SettingsError("--scale must be above 0")
        if not 0 <= self.anomalies < 0.5:
            raise SettingsError("--anomalies is a rate between 0 and 0.5 (e.g. 0.003)")
        if not 0 <= self.late_corrections < 0.5:
            raise SettingsError("--late-corrections is a rate between 0 and 0.5 (e.g. 0.01)")
        if not 0 <= self.identity_noise < 0.5:
            raise SettingsError("--identity-noise is a rate between 0 and 0.5 (e.g. 0.02)")


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
    late_changes: int = 0  # voided lines and late postings waiting in late/
    seconds: float = 0.0

    def to_json(self) -> dict:
        data = asdict(self)
        data["request"] = {**asdict(self.request), "start": self.request.start.isoformat()}
        return data


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


def generate(landing: Path, truth: Path, request: GenerateRequest) -> GenerateSummary:
    """Write the window's extracts and truth. A window too large for memory is generated in
    pieces of whole months (CHUNK_SCALE_DAYS), the same people throughout; each piece is
    self-contained (prescriptions are redeemed, orders returned and books posted within it)."""
    started = time.perf_counter()
    rng = np.random.default_rng(request.seed)
    catalog = load_catalog()
    days = window(request.start, request.days)
    population = make_population(rng, max(500, int(PEOPLE_PER_SCALE * request.scale)))
    noise, families = None, None
    if request.identity_noise:
        noise = IdentityNoise(request.identity_noise, request.seed)
        population, families = with_life_changes(noise, population, days[0], days[-1])
    log = DefectLog(rate=request.anomalies, rng=rng)
    parts = []
    for index, piece in enumerate(chunks(days, request.scale)):
        # The first piece draws from the main stream, so a window that fits is unchanged.
        log.rng = rng if index == 0 else np.random.default_rng([request.seed, index])
        log.touched_orders = set()
        parts.append(
            generate_piece(landing, request.scale, catalog, population, piece, log, index, noise)
        )
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
    if families is not None:
        _write_identity_truth(truth, population, families, [p.identity_typos for p in parts])
    if request.late_corrections:
        # late/ sits beside landing/ in the home: deliveries that wait for their date.
        summary.late_changes = make_late_corrections(
            landing, landing.parent, truth, days, request.late_corrections, request.seed
        ).height
    summary.seconds = round(time.perf_counter() - started, 2)
    return summary


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


def _write_identity_truth(
    truth: Path, population: Population, families: pl.DataFrame, typos: list[pl.DataFrame]
) -> None:
    """What identity noise changed: each record's typo, each person's phone change, each
    family pair sharing a phone."""
    persons = pl.read_parquet(truth / "persons.parquet")
    pl.concat(typos).join(persons, on="record_id", how="left").select(
        "source", "record_id", "person_id", "identifier", "change"
    ).sort("source", "record_id", "identifier").write_parquet(truth / "identity_noise.parquet")
    population.people.filter(pl.col("phone_changed_at").is_not_null()).select(
        "person_id", "phone_changed_at"
    ).write_parquet(truth / "phone_changes.parquet")
    families.write_parquet(truth / "shared_phones.parquet")
