"""The gate suites: what must hold before analysts see a number (SPEC §7)."""

from __future__ import annotations

import great_expectations as gx

from pipelines.defs.gates.gx_duckdb import Expectation, Suite

MONEY_COLUMNS = (
    "gross_sales",
    "discount_amount",
    "points_redeemed_value",
    "points_earned_value",
    "recognized_revenue",
    "cogs",
    "gross_margin",
)

MARTS_SALES_MARGIN = Suite(
    name="marts_fct_sales_margin",
    query="select * from marts.fct_sales_margin",
    expectations=(
        Expectation(
            gx.expectations.ExpectCompoundColumnsToBeUnique(column_list=["order_id", "line_no"]),
            "one row per order line (order_id, line_no)",
        ),
        *(
            Expectation(
                gx.expectations.ExpectColumnValuesToNotBeNull(column=column),
                f"{column} is never null",
            )
            for column in MONEY_COLUMNS
        ),
        Expectation(
            gx.expectations.UnexpectedRowsExpectation(
                unexpected_rows_query=(
                    "select order_id, line_no from {batch} "
                    "where gross_margin <> recognized_revenue - cogs "
                    "or recognized_revenue <> gross_sales - discount_amount - points_earned_value"
                ),
                description="margin arithmetic holds on every line",
            ),
            "gross_margin = recognized_revenue - cogs and recognized_revenue = gross_sales - "
            "discount - points earned",
        ),
    ),
)
