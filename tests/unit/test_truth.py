"""Scoring identity resolution against the generator's truth (tests and `make bench`)."""

import duckdb
import polars as pl

from pipelines.generate.truth import identity_quality


def _home(
    tmp_path,
    keys: list[tuple[str, str]],
    persons: list[tuple[str, int | None]],
    phone_only: tuple[str, ...] = (),
):
    """A build with record keys, and records that show a name besides their phone unless
    they are ``phone_only``."""
    build_db, truth = tmp_path / "build.duckdb", tmp_path / "truth"
    truth.mkdir()
    with duckdb.connect(str(build_db)) as con:
        con.execute("create schema intermediate")
        con.execute(
            "create table intermediate.int_identity__record_keys as select 'sales' as "
            "record_source, r as record_id, k as customer_key from (values "
            + ", ".join(f"('{r}', '{k}')" for r, k in keys)
            + ") as t(r, k)"
        )
        con.execute(
            "create table intermediate.int_identity__records as select record_source, "
            "record_id, 'p' as phone_token, case when record_id in (select unnest($1::varchar[])) "
            "then null else 'n' end as name_token, null::varchar as email_token, "
            "null::varchar as id_number_token, null::varchar as member_id "
            "from intermediate.int_identity__record_keys",
            [list(phone_only)],
        )
    pl.DataFrame(
        {"source": ["sales"] * len(persons), "record_id": [r for r, _ in persons],
         "person_id": [p for _, p in persons]},
        schema={"source": pl.String, "record_id": pl.String, "person_id": pl.Int64},
    ).write_parquet(truth / "persons.parquet")  # fmt: skip
    return build_db, truth


def test_pairwise_precision_and_recall_leave_anonymous_records_out(tmp_path):
    # Person 1: a, b, c; person 2: d. Key K1 holds a, b and d (one wrong pair of three:
    # a-d, b-d); c alone lost its pairs with a and b. e, f are anonymous: not scored.
    build_db, truth = _home(
        tmp_path,
        [("a", "K1"), ("b", "K1"), ("c", "K2"), ("d", "K1"), ("e", "K3"), ("f", "K4")],
        [("a", 1), ("b", 1), ("c", 1), ("d", 2), ("e", None), ("f", None)],
    )
    quality = identity_quality(build_db, truth)
    assert quality.records == 4
    assert quality.precision == 1 / 3  # of a-b, a-d, b-d only a-b is one person
    assert quality.recall == 1 / 3  # of a-b, a-c, b-c only a-b shares a key
    assert quality.family_pairs == 0


def test_family_members_given_one_key_are_counted_as_merged(tmp_path):
    build_db, truth = _home(
        tmp_path,
        [("a", "K1"), ("b", "K1"), ("c", "K2"), ("d", "K3")],
        [("a", 1), ("b", 2), ("c", 3), ("d", 4)],
    )
    pl.DataFrame(
        {"person_id": [2, 4], "shares_phone_of": [1, 3], "relation": ["child", "spouse"]}
    ).write_parquet(truth / "shared_phones.parquet")
    quality = identity_quality(build_db, truth)
    assert (quality.family_pairs, quality.family_merged) == (2, 1)
    assert "merged: 1 of 2 pairs" in quality.line()


def test_a_dependants_record_showing_only_the_phone_is_counted_apart(tmp_path):
    """Nothing in a record that shows only a family's phone says whose it is: given the
    holder's key, it is counted, but it is not a merge of the two people."""
    build_db, truth = _home(
        tmp_path,
        [("a", "K1"), ("b", "K2"), ("b2", "K1")],
        [("a", 1), ("b", 2), ("b2", 2)],
        phone_only=("b2",),
    )
    pl.DataFrame({"person_id": [2], "shares_phone_of": [1], "relation": ["child"]}).write_parquet(
        truth / "shared_phones.parquet"
    )
    quality = identity_quality(build_db, truth)
    assert (quality.family_pairs, quality.family_merged) == (1, 0)
    assert quality.phone_only_records_to_holder == 1
