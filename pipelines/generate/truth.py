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
    # Of those, a record of the dependant that shows more than the shared phone is given
    # the key of a record of the holder that does too: a false merge that pools their
    # points. (A record showing the phone alone, either's, says nothing of whose it is:
    # it counts in precision and recall, not here.)
    family_merged: int
    # Records of dependants that show the shared phone and nothing else (no name, no other
    # identifier) given the key of the holder's identified records.
    phone_only_records_to_holder: int = 0

    def line(self) -> str:
        families = (
            f"; family members sharing a phone merged: {self.family_merged} of "
            f"{self.family_pairs} pairs ({self.phone_only_records_to_holder} of their records "
            "showing only the shared phone given the holder's key)"
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
            """select keys.record_source as source, keys.record_id, keys.customer_key,
                   records.name_token is null and records.email_token is null
                   and records.id_number_token is null and records.member_id is null
                   as shows_only_a_phone
               from intermediate.int_identity__record_keys as keys
               inner join intermediate.int_identity__records as records
                   using (record_source, record_id)"""
        ).pl()
    persons = pl.read_parquet(truth / "persons.parquet")
    matched = keys.join(persons, on=["source", "record_id"]).filter(
        pl.col("person_id").is_not_null()
    )

    def pairs(*columns: str) -> int:
        sizes = matched.group_by(columns).len()["len"]
        return int((sizes * (sizes - 1) // 2).sum())

    together = pairs("customer_key", "person_id")
    family_pairs = family_merged = phone_only = 0
    shared = truth / "shared_phones.parquet"
    if shared.exists():
        holder_keys = (
            matched.filter(~pl.col("shows_only_a_phone"))
            .group_by("person_id")
            .agg(pl.col("customer_key").unique().alias("holder_keys"))
        )
        dependants = (
            pl.read_parquet(shared)
            .join(holder_keys.rename({"person_id": "shares_phone_of"}), on="shares_phone_of")
            .join(matched, on="person_id")
            .with_columns(to_holder=pl.col("holder_keys").list.contains(pl.col("customer_key")))
        )
        family_pairs = dependants["person_id"].n_unique()
        to_holder = dependants.filter("to_holder")
        family_merged = to_holder.filter(~pl.col("shows_only_a_phone"))["person_id"].n_unique()
        phone_only = to_holder.filter("shows_only_a_phone").height
    return IdentityQuality(
        records=matched.height,
        precision=together / max(pairs("customer_key"), 1),
        recall=together / max(pairs("person_id"), 1),
        family_pairs=family_pairs,
        family_merged=family_merged,
        phone_only_records_to_holder=phone_only,
    )
