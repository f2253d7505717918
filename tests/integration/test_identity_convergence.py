"""Identity resolution converges for any shape of linked records: a long chain in one day,
a chain whose links arrive one a day, a star. Each is one customer under a stable key, with
every merge on the way logged.

The identity models run on their own (dbt in-process) over a hand-made
`int_identity__record_identifiers` (and no matched or decided pairs), so the shapes are
exact and the runs are quick."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from dbt.cli.main import dbtRunner

from pipelines.settings import DBT_PROJECT_DIR, HOME_ENV

IDENTITY_MODELS = [
    "int_identity__identifier_keys",
    "int_identity__record_keys",
    "int_identity__key_merges",
]
DAY_1 = date(2024, 3, 1)
KINDS = ("phone", "email", "id_number")


def run_identity(home: Path, dbt_vars: dict):
    """dbt run of the identity models, in this process (a CLI start-up per day is slow)."""
    return dbtRunner().invoke(
        ["run", "--select", *IDENTITY_MODELS, "--vars", json.dumps(dbt_vars),
         "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
         "--target-path", str(home / "target"), "--log-path", str(home / "logs"), "--quiet"]
    )  # fmt: skip


def connect(db: Path) -> duckdb.DuckDBPyConnection:
    # dbt-duckdb keeps its connection (read-write, no options) open in this process, and
    # DuckDB lets a process open a file again only with the same options.
    return duckdb.connect(str(db))


class Identity:
    """A warehouse holding only record identifiers, and the identity models run on it."""

    def __init__(self, home: Path):
        self.home = home
        self.db = home / "warehouse" / "build.duckdb"
        self.db.parent.mkdir(parents=True)
        with connect(self.db) as con:
            con.execute("create schema intermediate")
            con.execute(
                "create table intermediate.int_identity__record_identifiers (record_source"
                " varchar, record_id varchar, business_date date, identifier_type varchar,"
                " identifier varchar, record_node varchar)"
            )
            # No pair matching found, nothing decided: the graph alone links these records.
            con.execute(
                "create table intermediate.int_identity__match_pairs (pair_id varchar,"
                " node_a varchar, node_b varchar, decision varchar, found_on date)"
            )
            con.execute("create schema staging")
            con.execute(
                "create table staging.stg_identity__decisions (pair_id varchar, decision varchar)"
            )

    def deliver(self, day: date, records: dict[str, list[str]]) -> None:
        # record_node: the record's least identifier, as int_identity__record_profiles has it.
        rows = [
            ("sales", record, day, identifier.split(":")[0], identifier, min(identifiers))
            for record, identifiers in records.items()
            for identifier in identifiers
        ]
        with connect(self.db) as con:
            con.executemany(
                "insert into intermediate.int_identity__record_identifiers"
                " values (?, ?, ?, ?, ?, ?)",
                rows,
            )

    def resolve(self, start: date, end: date | None = None) -> None:
        result = run_identity(self.home, {"start_date": str(start), "end_date": str(end or start)})
        assert result.success, result.exception or [
            (r.node.name, r.message) for r in result.result if r.status != "success"
        ]

    def rows(self, sql: str) -> list[tuple]:
        with connect(self.db) as con:
            return con.execute(sql).fetchall()

    def customers(self) -> set[str]:
        return {
            k
            for (k,) in self.rows("select customer_key from intermediate.int_identity__record_keys")
        }

    def key_of(self, record: str) -> str:
        [(key,)] = self.rows(
            "select customer_key from intermediate.int_identity__record_keys"
            f" where record_id = '{record}'"
        )
        return key

    def merges(self) -> list[tuple]:
        return self.rows(
            "select retired_customer_key, survivor_customer_key, merged_on"
            " from intermediate.int_identity__key_merges order by merged_on"
        )


@pytest.fixture
def identity(tmp_path, monkeypatch) -> Identity:
    monkeypatch.setenv(HOME_ENV, str(tmp_path))
    return Identity(tmp_path)


def identifier(position: int) -> str:
    return f"{KINDS[position % 3]}:{position:05d}"


def chain_link(position: int) -> dict[str, list[str]]:
    """Record R<position> shows the identifiers at position and position + 1."""
    return {f"R{position:05d}": [identifier(position), identifier(position + 1)]}


def test_a_chain_of_1000_records_in_one_day_is_one_customer_with_a_stable_key(identity):
    # The chain's smallest identifier sits at its far end, the longest way for it to travel.
    records = {}
    for position in range(1000):
        records.update(chain_link(position))
    records["R00000"] = [identifier(0), identifier(1), "email:00000-first"]
    identity.deliver(DAY_1, records)
    identity.resolve(DAY_1)
    assert len(identity.customers()) == 1
    key = identity.key_of("R00999")
    # The next day a record joins the chain's other end: same customer, same key.
    identity.deliver(DAY_1 + timedelta(days=1), {"R01000": [identifier(1000), "phone:new"]})
    identity.resolve(DAY_1 + timedelta(days=1))
    assert identity.customers() == {key}
    assert identity.merges() == []


@pytest.mark.reliability  # 30 dbt runs
def test_a_chain_delivered_one_link_a_day_merges_into_the_first_customer(identity):
    """Days 1-15 bring every other link (15 separate people), days 16-30 the links between
    them: each day merges the next person into the first, and logs it."""
    order = [*range(0, 30, 2), *range(1, 30, 2)]
    first_key = None
    for day_number, position in enumerate(order):
        day = DAY_1 + timedelta(days=day_number)
        identity.deliver(day, chain_link(position))
        identity.resolve(day)
        first_key = first_key or identity.key_of("R00000")
        assert identity.key_of("R00000") == first_key, day  # the first customer's key holds
    assert identity.customers() == {first_key}
    merges = identity.merges()
    assert len(merges) == 14  # P1..P14 merged into P0, one a day from day 16
    assert {survivor for _, survivor, _ in merges} == {first_key}
    assert [merged_on for *_, merged_on in merges] == [
        DAY_1 + timedelta(days=day) for day in range(15, 29)
    ]


def test_a_star_of_500_records_on_one_phone_is_one_customer(identity):
    identity.deliver(DAY_1, {f"R{n:03d}": ["phone:shared", f"email:{n:03d}"] for n in range(500)})
    identity.resolve(DAY_1)
    [key] = identity.customers()
    identity.deliver(DAY_1 + timedelta(days=1), {"R500": ["phone:shared", "email:500"]})
    identity.resolve(DAY_1 + timedelta(days=1))
    assert identity.customers() == {key}


def test_reaching_the_round_bound_fails_loudly(identity):
    identity.deliver(DAY_1, {**chain_link(0), **chain_link(1), **chain_link(2)})
    window = {"start_date": str(DAY_1), "end_date": str(DAY_1), "identity_max_rounds": 1}
    result = run_identity(identity.home, window)
    assert not result.success
    messages = " ".join(str(r.message) for r in result.result)
    assert "did not converge in 1 rounds: raise the dbt var identity_max_rounds" in messages
