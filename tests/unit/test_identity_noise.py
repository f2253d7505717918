"""Dirty identifiers from the generator (--identity-noise): what real extracts carry,
with truth that says who is who; without noise the extracts are as clean as before."""

from datetime import date

import polars as pl
import pytest

from pipelines import pii
from pipelines.generate import GenerateRequest, generate
from pipelines.settings import Settings
from tests.unit.test_generator import _identity_records, landing_files, read_source

CLEAN = GenerateRequest(start=date(2024, 5, 1), days=20, scale=0.05, seed=7, identity_noise=0)
NOISY = GenerateRequest(**{**CLEAN.__dict__, "identity_noise": 0.05})
CUSTOMER_COLUMNS = {
    "sales": ["customer_phone", "customer_email", "customer_name", "customer_id_number"],
    "consultations": ["patient_phone", "patient_name", "patient_id_number"],
}


@pytest.fixture(scope="module")
def homes(tmp_path_factory) -> tuple[Settings, Settings]:
    clean = Settings(home=tmp_path_factory.mktemp("clean") / "home")
    noisy = Settings(home=tmp_path_factory.mktemp("noisy") / "home")
    generate(clean.landing, clean.truth, CLEAN)
    generate(noisy.landing, noisy.truth, NOISY)
    return clean, noisy


def test_noise_changes_only_who_the_records_show(homes):
    """Noise draws from its own stream: orders, amounts, products and the ledger are the
    clean extract's, and so is every record's true person."""
    clean, noisy = homes
    assert landing_files(clean).keys() == landing_files(noisy).keys()
    for source, columns in CUSTOMER_COLUMNS.items():
        before, after = read_source(clean, source), read_source(noisy, source)
        assert before.drop(columns).equals(after.drop(columns)), source
        assert not before.select(columns).equals(after.select(columns)), source
    for name in ("inventory", "ledger"):
        assert {k: v for k, v in landing_files(clean).items() if k.startswith(name)} == {
            k: v for k, v in landing_files(noisy).items() if k.startswith(name)
        }
    persons = pl.read_parquet(clean.truth / "persons.parquet")
    assert persons.equals(pl.read_parquet(noisy.truth / "persons.parquet"))
    assert not (clean.truth / "identity_noise.parquet").exists()


def test_every_typo_is_in_the_truth_at_about_the_rate(homes):
    _, noisy = homes
    typos = pl.read_parquet(noisy.truth / "identity_noise.parquet")
    assert typos["source"].null_count() == 0 and typos["person_id"].null_count() == 0
    changes = set(typos.select("identifier", "change").iter_rows())
    assert changes >= {
        ("phone", "wrong_digit"),
        ("phone", "transposed_digits"),
        ("id_number", "wrong_digit"),
        ("id_number", "transposed_digits"),
        ("name", "space"),
        ("name", "ideographic_space"),
        ("name", "pinyin"),
        ("name", "dropped_character"),
        ("name", "swapped_characters"),
        ("email", "dot_in_local_part"),
    }
    sales = read_source(noisy, "sales")  # a line per order line: a record is an order
    shown_phones = sales.filter(pl.col("customer_phone").is_not_null())["order_id"].n_unique()
    phone_typos = typos.filter(
        (pl.col("identifier") == "phone") & (pl.col("source") == "sales")
    ).height
    assert 0.03 < phone_typos / shown_phones < 0.07


def test_typos_keep_the_shape_of_what_they_corrupt(homes):
    """A mistyped phone is still a mobile number and a mistyped ID number still 18
    characters: nothing but matching can tell them from the real thing (and the PII
    scans still find them); a mistyped ID number fails its check digit."""
    _, noisy = homes
    sales = read_source(noisy, "sales")
    phones = pl.select(pii.normalise("phone", pl.lit(sales["customer_phone"].drop_nulls())))
    assert phones.to_series().str.contains(r"^1[3-9]\d{9}$").all()
    typos = pl.read_parquet(noisy.truth / "identity_noise.parquet")
    mistyped = typos.filter(pl.col("identifier") == "id_number")["record_id"]
    ids = (
        sales.filter(pl.col("order_id").is_in(mistyped.implode()))
        .select(pii.normalise("id_number", pl.col("customer_id_number")).alias("id"))
        .drop_nulls()
        .unique()
    )
    assert ids.height > 10 and ids["id"].str.contains(r"^\d{17}[\dX]$").all()
    # ISO 7064 MOD 11-2 catches every single wrong digit and adjacent transposition.
    assert not ids.select(pii.is_valid("id_number", pl.col("id"))).to_series().any()


def test_family_members_are_different_people_sharing_one_phone(homes):
    """The hard negative: a child (mother-and-baby) or a spouse (cars) shows the phone of
    a family member and is another person; no other identifier of theirs is shared."""
    _, noisy = homes
    families = pl.read_parquet(noisy.truth / "shared_phones.parquet")
    assert set(families["relation"]) == {"child", "spouse"}
    assert families.filter(pl.col("person_id") == pl.col("shares_phone_of")).is_empty()
    records = _identity_records(noisy)
    owners = records.group_by("identifier").agg(pl.col("person_id").unique())
    shared = owners.filter(pl.col("person_id").list.len() > 1)
    assert shared.height > 0
    assert shared["identifier"].str.starts_with("phone:").all()
    pairs = {tuple(sorted(p)) for p in shared["person_id"].to_list() if len(p) == 2}
    family_pairs = {
        tuple(sorted(p)) for p in families.select("person_id", "shares_phone_of").rows()
    }
    assert pairs and pairs <= family_pairs


def test_people_who_change_phone_show_the_new_one_from_that_day(homes):
    _, noisy = homes
    changes = pl.read_parquet(noisy.truth / "phone_changes.parquet")
    assert changes.height > 0
    records = _identity_records(noisy).filter(pl.col("identifier").str.starts_with("phone:"))
    moved = records.join(changes, on="person_id")
    # Some of them shop before and after: two phones, one person.
    phones_per_person = moved.group_by("person_id").agg(pl.col("identifier").n_unique())
    assert (phones_per_person["identifier"] >= 2).any()


def test_the_rate_is_checked():
    from pipelines.settings import SettingsError

    with pytest.raises(SettingsError, match="identity-noise"):
        GenerateRequest(**{**CLEAN.__dict__, "identity_noise": 0.7})
