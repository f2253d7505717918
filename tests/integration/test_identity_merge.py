"""Two known customers turn out to be one: the survivor keeps its key, the merge is logged,
and the earlier order lines move to the survivor."""

from datetime import date
from decimal import Decimal

import dagster as dg
import duckdb
import pytest

from pipelines.contracts import load_contract
from pipelines.defs.transform.dbt import DBT_DOCS
from pipelines.orchestrate import run_window
from pipelines.runs.summary import PUBLISHED_MARTS
from pipelines.settings import PII_KEY_ENV, Settings
from pipelines.transform.dbt_project import DOCS_STAMP, docs_fingerprint
from tests.conftest import TEST_PII_KEY
from tests.integration.test_reruns import built, published
from tests.unit.test_ingest import csv_bytes, deliver, sale

pytestmark = pytest.mark.slow
DAY1, DAY2 = date(2024, 3, 1), date(2024, 3, 2)
NO_CONTACT = {"customer_phone": "", "customer_email": "", "customer_id_number": "", "member_id": ""}


def _order(order_id: str, day: date, **contact) -> dict:
    return sale(order_id=order_id, order_ts=f"{day}T10:00:00+08:00", **{**NO_CONTACT, **contact})


def postings(orders: list[dict], day: date, journal_prefix: str = "JE") -> bytes:
    """Finance's postings of the orders (as finance posts them; no cost: no stock), as a
    ledger CSV."""
    ledger_columns = list(load_contract("ledger").column_names)
    lines_posted = []
    for number, order in enumerate(orders, start=1):
        gross = Decimal(order["quantity"]) * Decimal(order["unit_price"])
        redeemed = Decimal(order["points_redeemed"]) / 100
        earned = Decimal(order["points_earned"]) / 100
        net, tax = Decimal(order["net_amount"]), Decimal(order["tax_amount"])
        lines = [
            ("1122", net + tax, 0),
            ("2203", redeemed, 0),
            ("6001", 0, gross - Decimal(order["discount_amount"])),
            ("2221", 0, tax),
            ("6001", earned, 0),
            ("2203", 0, earned),
        ]
        lines_posted += [
            {
                "journal_id": f"{journal_prefix}{day:%Y%m%d}{number:07d}",
                "line_no": line_no,
                "posting_date": day.isoformat(),
                "account_code": account,
                "brand_code": order["brand_code"],
                "cost_center": order["store_id"],
                "debit": f"{debit:.2f}",
                "credit": f"{credit:.2f}",
                "source_system": "POS",
                "source_doc_id": order["order_id"],
                "description": "销售",
            }
            for line_no, (account, debit, credit) in enumerate(lines, start=1)
        ]
    return csv_bytes(lines_posted, ledger_columns)


def _deliver_day(settings: Settings, day: date, orders: list[dict]) -> None:
    """A whole business date, so every gate has what it needs: the orders, finance's
    postings of them, no stock, no consultations."""
    deliver(settings, "pos.csv", csv_bytes(orders), day=day)
    deliver(settings, "gl.csv", postings(orders, day), source="ledger", day=day)
    for source in ("inventory", "consultations"):
        header = csv_bytes([], list(load_contract(source).column_names))
        deliver(settings, f"{source}.csv", header, source=source, day=day)


@pytest.mark.long  # four runs
def test_a_merge_keeps_the_first_seen_key_and_rekeys_history(tmp_path, dbt_manifest, monkeypatch):
    monkeypatch.setenv(PII_KEY_ENV, TEST_PII_KEY)
    settings = Settings(home=tmp_path / "home", start_date=date(2024, 1, 1))
    # Day 1: an in-store buyer gives a phone, an online buyer an e-mail: two customers.
    _deliver_day(
        settings,
        DAY1,
        [
            _order("KDK202403010000001", DAY1, customer_phone="13812345678"),
            _order("KDK202403010000002", DAY1, customer_email="li.lei@example.com"),
        ],
    )
    outcome = run_window(settings, DAY1, DAY1)
    assert outcome.exit_code == 0, outcome.details

    def keys() -> dict[str, str]:
        with duckdb.connect(str(settings.marts_db), read_only=True) as con:
            return dict(
                con.execute("select order_id, customer_key from fct_sales_margin").fetchall()
            )

    first = keys()
    phone_key = first["KDK202403010000001"]
    email_key = first["KDK202403010000002"]
    assert phone_key != email_key

    # Day 2: one order shows both: they were one person all along.
    _deliver_day(
        settings,
        DAY2,
        [
            _order(
                "KDK202403020000001",
                DAY2,
                customer_phone="+86 138 1234 5678",
                customer_email="LI.LEI@example.com",
            ),
        ],
    )
    outcome = run_window(settings, DAY2, DAY2)
    assert outcome.exit_code == 0, outcome.details

    # Both identifiers were first seen the same day: the anchor is the first by text,
    # "email:<token>" before "phone:<token>", so the e-mail customer survives.
    after = keys()
    assert set(after.values()) == {email_key}
    with duckdb.connect(str(settings.marts_db), read_only=True) as con:
        merges = con.execute(
            "select retired_customer_key, survivor_customer_key, merged_on from customer_key_merges"
        ).fetchall()
        profiles = con.execute("select customer_key, order_count from customer_profile").fetchall()
    assert merges == [(phone_key, email_key, DAY2)]
    assert profiles == [(email_key, 3)]
    # The second night patched the published file, re-keyed day-1 rows included.
    assert published(settings) == built(settings)

    # The second run left the dbt docs alone: the project had not changed.
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        docs = instance.fetch_materializations(DBT_DOCS, limit=2).records
        publications = instance.fetch_materializations(PUBLISHED_MARTS, limit=1).records
    regenerated = [r.asset_materialization.metadata["regenerated"].value for r in docs]
    assert regenerated == [False, True]
    patched = publications[0].asset_materialization.metadata["patched"].value
    assert "fct_sales_margin" in patched and "customer_profile" not in patched
    assert (settings.reports / "dbt-docs" / DOCS_STAMP).read_text() == docs_fingerprint()
