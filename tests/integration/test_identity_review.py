"""A pair matching cannot decide waits in identity_review_queue; a reviewer's decision in
identity/decisions.csv is applied by the next run and kept; a bad decisions file fails the
run by name and changes nothing."""

from datetime import date

import duckdb
import pytest

from pipelines.identity_decisions import decisions_path
from pipelines.orchestrate import run_window
from pipelines.settings import PII_KEY_ENV, Settings
from tests.conftest import TEST_PII_KEY
from tests.integration.test_identity_merge import NO_CONTACT, _deliver_day, _order

pytestmark = pytest.mark.slow
DAY1, DAY2, DAY3, DAY4 = date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 3), date(2024, 3, 4)
PHONE = "13812345678"


def _published(settings: Settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.marts_db), read_only=True) as con:
        return con.execute(sql).fetchall()


def _key_of(settings: Settings, order_id: str) -> str:
    return _published(
        settings, f"select customer_key from fct_sales_margin where order_id = '{order_id}'"
    )[0][0]


@pytest.mark.long  # three runs
def test_a_reviewers_decisions_are_applied_by_the_next_run(tmp_path, dbt_manifest, monkeypatch):
    monkeypatch.setenv(PII_KEY_ENV, TEST_PII_KEY)
    settings = Settings(home=tmp_path / "home", start_date=date(2024, 1, 1))
    # A mother and her son share a phone; a third order shows only that phone.
    mother, son, unnamed = "KDK202403010000001", "KDK202403010000002", "KDK202403010000003"
    _deliver_day(
        settings,
        DAY1,
        [
            _order(mother, DAY1, customer_phone=PHONE, customer_name="王芳"),
            _order(son, DAY1, customer_phone=PHONE, customer_name="陈子涵"),
            _order(unnamed, DAY1, customer_phone=PHONE, customer_name=""),
        ],
    )
    assert run_window(settings, DAY1, DAY1).exit_code == 0
    assert len({_key_of(settings, order) for order in (mother, son, unnamed)}) == 3
    queue = _published(
        settings,
        "select pair_id, name_masked_a, name_masked_b, phone_masked_a, review_reason "
        "from identity_review_queue order by name_masked_a nulls first, name_masked_b",
    )
    # Either named order could be the unnamed one's buyer: both pairs wait for a person,
    # shown masked.
    assert [(a, b, phone) for _, a, b, phone, _ in queue] in (
        [(None, "王*", "138****5678"), (None, "陈**", "138****5678")],
        [("王*", None, "138****5678"), ("陈**", None, "138****5678")],
    )
    assert {reason for *_, reason in queue} == {
        "only the phone agrees, and two people have shown it"
    }
    with_mother, with_son = queue[0][0], queue[1][0]

    path = decisions_path(settings.home)
    path.parent.mkdir()
    path.write_text(
        f"pair_id,decision,reviewer,note\n{with_mother},same,wang.li,her order\n"
        f"{with_son},different,wang.li,\n",
        encoding="utf-8",
    )
    _deliver_day(settings, DAY2, [_order("KDK202403020000001", DAY2, **NO_CONTACT)])
    assert run_window(settings, DAY2, DAY2).exit_code == 0
    assert _key_of(settings, unnamed) == _key_of(settings, mother) != _key_of(settings, son)
    assert _published(settings, "select count(*) from identity_review_queue") == [(0,)]
    merges = _published(
        settings, "select survivor_customer_key, merged_on from customer_key_merges"
    )
    assert merges == [(_key_of(settings, mother), DAY2)] or merges == [
        (_key_of(settings, unnamed), DAY2)
    ]

    # A later run keeps the decisions; a bad row fails it before anything is built.
    path.write_text(path.read_text(encoding="utf-8") + "13900001111,same,,\n", encoding="utf-8")
    _deliver_day(settings, DAY3, [_order("KDK202403030000001", DAY3, **NO_CONTACT)])
    outcome = run_window(settings, DAY3, DAY3)
    assert outcome.exit_code != 0
    assert f"{path} row 3 (line 4)" in " ".join(outcome.details)
    assert "13900001111" not in " ".join(outcome.details) + outcome.message
    assert _key_of(settings, unnamed) == _key_of(settings, mother)


def _profile(settings: Settings, customer_key: str) -> tuple:
    return _published(
        settings,
        "select order_count, recognized_revenue, points_balance from customer_profile "
        f"where customer_key = '{customer_key}'",
    )[0]


@pytest.mark.long  # five runs
def test_a_decision_reversed_to_different_splits_the_customer(tmp_path, dbt_manifest, monkeypatch):
    """A reviewer decided an order showing only a phone was the mother's (a merge), then
    finds it was not: the customer is split. The order gets its own key back and the
    mother hers; lines, daily activity, points and profile follow; the split is logged
    apart from merges; and the keys are those of one run that knew the decision from the
    start."""
    monkeypatch.setenv(PII_KEY_ENV, TEST_PII_KEY)
    by_night = Settings(home=tmp_path / "by-night", start_date=date(2024, 1, 1))
    mother, son, unnamed = "KDK202403010000001", "KDK202403010000002", "KDK202403010000003"
    orders = {
        DAY1: [
            _order(mother, DAY1, customer_phone=PHONE, customer_name="王芳"),
            _order(son, DAY1, customer_phone=PHONE, customer_name="陈子涵"),
            _order(unnamed, DAY1, customer_phone=PHONE, customer_name=""),
        ],
        DAY2: [_order("KDK202403020000001", DAY2, customer_phone=PHONE, customer_name="王芳")],
        DAY3: [_order("KDK202403030000001", DAY3, **NO_CONTACT)],
        DAY4: [_order("KDK202403040000001", DAY4, customer_phone=PHONE, customer_name="王芳")],
    }
    for day, day_orders in orders.items():
        _deliver_day(by_night, day, day_orders)
    assert run_window(by_night, DAY1, DAY1).exit_code == 0
    mothers_key, unnamed_key = _key_of(by_night, mother), _key_of(by_night, unnamed)
    alone = {key: _profile(by_night, key) for key in (mothers_key, unnamed_key)}
    pairs = dict(
        _published(
            by_night,
            "select coalesce(name_masked_a, name_masked_b), pair_id from identity_review_queue"
            " where name_masked_a is null or name_masked_b is null",
        )
    )
    with_mother, with_son = pairs["王*"], pairs["陈**"]

    path = decisions_path(by_night.home)
    path.parent.mkdir()
    path.write_text(
        f"pair_id,decision\n{with_mother},same\n{with_son},different\n", encoding="utf-8"
    )
    assert run_window(by_night, DAY2, DAY2).exit_code == 0
    merged_key = _key_of(by_night, unnamed)
    assert _key_of(by_night, mother) == merged_key == _key_of(by_night, "KDK202403020000001")

    path.write_text(
        f"pair_id,decision\n{with_mother},different\n{with_son},different\n", encoding="utf-8"
    )
    assert run_window(by_night, DAY3, DAY3).exit_code == 0
    # The side holding the customer's first identifier keeps the key; the other side gets
    # the key of its own first identifier: the mother's key from before the merge.
    mother_now = _key_of(by_night, mother)
    assert {_key_of(by_night, unnamed), mother_now} == {merged_key, mothers_key}
    assert _key_of(by_night, "KDK202403020000001") == mother_now != _key_of(by_night, unnamed)
    splits = _published(
        by_night, "select split_customer_key, new_customer_key, split_on from customer_key_splits"
    )
    assert splits == [(merged_key, mothers_key if mother_now == mothers_key else unnamed_key, DAY3)]
    assert _published(by_night, "select merged_on from customer_key_merges") == [(DAY2,)]
    # The unnamed order's customer has what it had alone on day 1, no more.
    assert _profile(by_night, _key_of(by_night, unnamed)) == alone[unnamed_key]
    activity = _published(
        by_night,
        "select customer_key, sum(sale_orders) from customer_daily_activity"
        " group by all order by all",
    )
    lines = _published(
        by_night,
        "select customer_key, count(distinct order_id) from fct_sales_margin"
        " where line_type = 'SALE' and customer_key is not null group by all order by all",
    )
    assert activity == lines
    # The next night leaves the split as it is (the merge of day 2 is not applied again).
    assert run_window(by_night, DAY4, DAY4).exit_code == 0
    assert _key_of(by_night, mother) == _key_of(by_night, "KDK202403040000001") == mother_now

    at_once = Settings(home=tmp_path / "at-once", start_date=date(2024, 1, 1))
    for day, day_orders in orders.items():
        _deliver_day(at_once, day, day_orders)
    decisions_path(at_once.home).parent.mkdir()
    decisions_path(at_once.home).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    assert run_window(at_once, DAY1, DAY4).exit_code == 0
    keys = "select order_id, customer_key from fct_sales_margin order by all"
    assert _published(by_night, keys) == _published(at_once, keys)
    profiles = "select * exclude (recency_days) from customer_profile order by customer_key"
    assert _published(by_night, profiles) == _published(at_once, profiles)
