"""The scanner the PII tests rely on: it must find a phone in text, and not a float's digits."""

from tests.pii_scan import text_findings


def test_a_mobile_number_in_text_is_found():
    assert text_findings("customer called from 13412345678 today", set()) == ["mobile"]
    assert text_findings("tel:+86 13412345678.", set()) == ["mobile"]


def test_a_timing_whose_fraction_has_eleven_digits_is_not_a_phone():
    assert text_findings('"elapsed": 0.13412345678, "rows": 12', set()) == []


def test_a_delivered_value_is_found_as_written():
    assert text_findings("name was Zhang Wei Ming", {"Zhang Wei Ming"}) == ["value Zha…"]


def test_a_delivered_value_inside_a_list_of_feature_tokens_is_found():
    import duckdb

    from tests.pii_scan import duckdb_findings

    with duckdb.connect() as con:
        con.execute(
            "create table raw_sales as select * from (values "
            "(['0123456789abcdef', 'fedcba9876543210']), (['13812345678']), (null)) as t(v)"
        )
        found = duckdb_findings(con, {"13812345678"})
    assert found == [
        '"main"."raw_sales"."v": 1 delivered value(s)',
        '"main"."raw_sales"."v": 1 element(s) that are not feature tokens',
    ]
