"""A window's outcome depends on the data, not on how many attempts it took: a run that
failed (a source missing) and its re-run once the file arrived publish exactly what one
clean run publishes."""

import shutil
from datetime import date, timedelta

import duckdb
import pytest

from pipelines.generate import GenerateRequest, generate
from pipelines.orchestrate import run_window
from pipelines.settings import Settings

# Whole runs, several per test: with the reliability suite (make test-reliability).
pytestmark = [pytest.mark.slow, pytest.mark.reliability]
START, END = date(2024, 3, 1), date(2024, 3, 6)


def published(settings: Settings) -> dict[str, list[tuple]]:
    with duckdb.connect(str(settings.marts_db), read_only=True) as con:
        tables = [t for (t,) in con.execute("show tables").fetchall()]
        return {t: sorted(con.execute(f"select * from {t}").fetchall(), key=repr) for t in tables}


def built(settings: Settings) -> dict[str, list[tuple]]:
    """The marts as build.duckdb has them: what a publication must have carried over."""
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        tables = [
            t
            for (t,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        ]
        return {
            t: sorted(con.execute(f"select * from marts.{t}").fetchall(), key=repr) for t in tables
        }


def test_a_failed_run_and_its_rerun_publish_what_a_clean_run_does(tmp_path, dbt_manifest):
    clean = Settings(home=tmp_path / "clean", start_date=START)
    generate(clean.landing, clean.truth, GenerateRequest(start=START, days=6, scale=0.05))
    retried = Settings(home=tmp_path / "retried", start_date=START)
    shutil.copytree(clean.home, retried.home)
    late = retried.landing / "consultations" / "2024-03-04"
    held = tmp_path / "held"
    late.rename(held)
    assert run_window(retried, START, END).exit_code == 1  # a source missing: not published
    held.rename(late)
    assert run_window(retried, START, END).exit_code == 0
    assert run_window(clean, START, END).exit_code == 0
    assert published(retried) == published(clean)


def test_a_backfill_of_earlier_dates_joins_the_customers_later_dates_found(tmp_path, dbt_manifest):
    """Dates run late first, then the earlier dates: each record still resolves to one
    customer, under the key an in-order run gives it (its earliest identifier)."""
    in_order = Settings(home=tmp_path / "in-order", start_date=START)
    generate(in_order.landing, in_order.truth, GenerateRequest(start=START, days=6, scale=0.05))
    backfilled = Settings(home=tmp_path / "backfilled", start_date=START)
    shutil.copytree(in_order.home, backfilled.home)
    middle = date(2024, 3, 3)
    assert run_window(backfilled, date(2024, 3, 4), END).exit_code == 0
    assert run_window(backfilled, START, middle).exit_code == 0
    assert run_window(in_order, START, END).exit_code == 0

    def record_keys(settings: Settings) -> list[tuple]:
        with duckdb.connect(str(settings.build_db), read_only=True) as con:
            return con.execute(
                "select record_source, record_id, customer_key, customer_keys_found"
                " from intermediate.int_identity__record_keys order by all"
            ).fetchall()

    keys = record_keys(backfilled)
    expected = record_keys(in_order)
    differing = sorted(set(keys) ^ set(expected))[:4]
    assert keys == expected, identity_state(differing, backfilled, in_order)
    assert {found for *_, found in keys} == {1}


def identity_state(differing: list[tuple], *homes: Settings) -> str:
    """For a failure message: what each home resolved the differing records' identifiers
    to, and the pairs matching scored for them (tokens and keys only)."""
    ids = sorted({record_id for _, record_id, *_ in differing})
    lines = [f"differing records: {differing}"]
    for settings in homes:
        with duckdb.connect(str(settings.build_db), read_only=True) as con:
            identifiers = con.execute(
                "select identifier from intermediate.int_identity__record_identifiers"
                " where list_contains(?, record_id)",
                [ids],
            ).fetchall()
            nodes = [identifier for (identifier,) in identifiers]
            keys = con.execute(
                "select identifier, first_seen_date, anchor, customer_key, resolved_through"
                " from intermediate.int_identity__identifier_keys"
                " where list_contains(?, identifier) order by all",
                [nodes],
            ).fetchall()
            pairs = con.execute(
                "select pair_id, node_a, node_b, decision, match_weight, review_reason, found_on"
                " from intermediate.int_identity__match_pairs"
                " where list_contains(?, node_a) or list_contains(?, node_b) order by all",
                [nodes, nodes],
            ).fetchall()
        lines += [f"{settings.home.name}: keys {keys}", f"{settings.home.name}: pairs {pairs}"]
    return "\n".join(lines)


def test_a_run_that_published_says_so_when_a_later_step_fails(tmp_path, monkeypatch):
    settings = Settings(home=tmp_path / "home", start_date=START)
    generate(settings.landing, settings.truth, GenerateRequest(start=START, days=1, scale=0.02))

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("pipelines.defs.publish.assets.write_daily_reports", disk_full)
    outcome = run_window(settings, START, START)
    assert outcome.exit_code == 1  # not a clean run: the nightly alert still fires
    assert outcome.message.startswith(f"published {settings.marts_db} for {START}, but a step")
    assert any("No space left on device" in line for line in outcome.details)
    assert published(settings)["fct_sales_margin"]


def test_a_night_after_a_failed_night_judges_the_failed_dates_too(tmp_path, dbt_manifest):
    """Day 3 fails a gate (a source missing); day 4's run must not publish day 3's rows
    unjudged: its gates cover day 3 too, so it fails as well and the marts stay as they
    were. Once day 3's file arrives, its run publishes days 3 and 4."""
    settings = Settings(home=tmp_path / "home", start_date=START)
    generate(settings.landing, settings.truth, GenerateRequest(start=START, days=4, scale=0.05))
    day3, day4 = date(2024, 3, 3), date(2024, 3, 4)
    assert run_window(settings, START, date(2024, 3, 2)).exit_code == 0
    published_before = settings.marts_db.read_bytes()
    late = settings.landing / "consultations" / day3.isoformat()
    held = tmp_path / "held"
    late.rename(held)
    assert run_window(settings, day3, day3).exit_code == 1

    night = run_window(settings, day4, day4)
    assert night.exit_code == 1
    assert "every business date delivered" in "\n".join(night.details)
    assert settings.marts_db.read_bytes() == published_before

    held.rename(late)
    assert run_window(settings, day3, day3).exit_code == 0
    with duckdb.connect(str(settings.marts_db), read_only=True) as con:
        dates = con.execute("select distinct business_date from fct_sales_margin").fetchall()
    assert {d for (d,) in dates} == {START + timedelta(days=i) for i in range(4)}
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        assert con.execute("select count(*) from audit.unpublished_windows").fetchone() == (0,)
