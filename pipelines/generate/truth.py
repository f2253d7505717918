"""How a run home's results compare with the generator's truth (tests and `make bench`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl


@dataclass(frozen=True)
class IdentityQuality:
    """Record → customer_key against record → true person, pairwise."""

    records: int
    precision: float  # of the record pairs given one key, the share that are one person
    recall: float  # of the record pairs of one person, the share given one key
    family_pairs: int  # family members sharing a phone (identity noise), both seen
    family_merged: int  # of those, given one key: a false merge that pools their points

    def line(self) -> str:
        families = (
            f"; family members sharing a phone merged: {self.family_merged} of "
            f"{self.family_pairs} pairs"
            if self.family_pairs
            else ""
        )
        return (
            f"precision {self.precision:.5f}, recall {self.recall:.5f} "
            f"({self.records:,} records){families}"
        )


def identity_quality(build_db: Path, truth: Path) -> IdentityQuality:
    with duckdb.connect(str(build_db), read_only=True) as con:
        keys = con.sql(
            """select record_source as source, record_id, customer_key
               from intermediate.int_identity__record_keys"""
        ).pl()
    persons = pl.read_parquet(truth / "persons.parquet")
    matched = keys.join(persons, on=["source", "record_id"]).filter(
        pl.col("person_id").is_not_null()
    )

    def pairs(*columns: str) -> int:
        sizes = matched.group_by(columns).len()["len"]
        return int((sizes * (sizes - 1) // 2).sum())

    together = pairs("customer_key", "person_id")
    family_pairs = family_merged = 0
    shared = truth / "shared_phones.parquet"
    if shared.exists():
        keys_of = matched.group_by("person_id").agg(pl.col("customer_key").unique().alias("keys"))
        seen = (
            pl.read_parquet(shared)
            .join(keys_of, on="person_id")
            .join(
                keys_of.rename({"person_id": "shares_phone_of", "keys": "holder_keys"}),
                on="shares_phone_of",
            )
        )
        family_pairs = seen.height
        family_merged = seen.filter(
            pl.col("keys").list.set_intersection("holder_keys").list.len() > 0
        ).height
    return IdentityQuality(
        records=matched.height,
        precision=together / max(pairs("customer_key"), 1),
        recall=together / max(pairs("person_id"), 1),
        family_pairs=family_pairs,
        family_merged=family_merged,
    )
