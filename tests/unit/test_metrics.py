"""The published-file side of the semantic layer: relations renamed to the published
layout, and balances as of a day."""

from datetime import date
from decimal import Decimal

from pipelines.publish.metrics import Balances, published_relations


def test_every_relation_is_renamed_to_the_published_layout_and_nothing_else_moves():
    relation = {
        "alias": "fct_margin_daily",
        "schema_name": "marts",
        "database": "build",
        "relation_name": '"build"."marts"."fct_margin_daily"',
    }
    spine = {**relation, "alias": "dim_calendar", "relation_name": '"build"."marts"."dim_calendar"'}
    manifest = {
        "semantic_models": [{"name": "margin_daily", "node_relation": relation}],
        "project_configuration": {"time_spines": [{"node_relation": spine, "x": [1, "a"]}]},
        "metrics": [{"name": "gross_margin", "label": "毛利"}],
    }
    renamed = published_relations(manifest)
    assert renamed["semantic_models"][0]["node_relation"] == {
        "alias": "fct_margin_daily",
        "schema_name": "main",
        "database": None,
        "relation_name": '"main"."fct_margin_daily"',
    }
    spine_now = renamed["project_configuration"]["time_spines"][0]
    assert spine_now["node_relation"]["relation_name"] == '"main"."dim_calendar"'
    assert spine_now["x"] == [1, "a"]
    assert renamed["metrics"] == manifest["metrics"]
    assert manifest["semantic_models"][0]["node_relation"] is relation  # not changed in place
    assert relation["schema_name"] == "marts"


def test_a_balance_on_a_day_is_each_brands_latest_row_by_then():
    one, three, five = (Decimal(n) for n in (1, 3, 5))
    balances = Balances(
        {
            "AUR": [(date(2026, 1, 1), (100, one)), (date(2026, 1, 3), (300, three))],
            "KDK": [(date(2026, 1, 5), (500, five))],
        }
    )
    assert balances.at(date(2025, 12, 31)) == []
    assert balances.at(date(2026, 1, 2)) == [("AUR", 100, one)]
    assert balances.at(date(2026, 1, 3)) == [("AUR", 300, three)]
    assert balances.at(date(2026, 1, 9)) == [("AUR", 300, three), ("KDK", 500, five)]
