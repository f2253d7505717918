"""The extract generator: deterministic, realistic, and its truth is exact."""

import json
from datetime import date

import polars as pl
import pytest

from pipelines import pii
from pipelines.generate import GenerateRequest, generate
from pipelines.generate.defects import (
    FILE_DEFECTS,
    INGEST_DEFECTS,
    LEDGER_BREAKS,
    RX_REASONS,
    TRACE_ISSUES,
)
from pipelines.ingest.landing import sha256_hex
from pipelines.ingest.seeds import load_seeds
from pipelines.settings import Settings

SMALL = GenerateRequest(start=date(2024, 5, 30), days=4, scale=0.02, seed=11, file_defects=True)


def landing_files(settings: Settings) -> dict[str, bytes]:
    return {
        str(p.relative_to(settings.landing)): p.read_bytes()
        for p in sorted(settings.landing.rglob("*"))
        if p.is_file()
    }


def read_source(settings: Settings, source: str) -> pl.DataFrame:
    frames = [
        pl.read_csv(p, infer_schema=False)
        for p in sorted((settings.landing / source).rglob("*.csv"))
    ]
    return pl.concat(frames, how="diagonal")


def test_same_arguments_give_the_same_bytes(tmp_path):
    first, second = Settings(home=tmp_path / "a"), Settings(home=tmp_path / "b")
    generate(first.landing, first.truth, SMALL)
    generate(second.landing, second.truth, SMALL)
    assert landing_files(first) == landing_files(second)
    for name in ("persons.parquet", "defects.parquet"):
        assert (first.truth / name).read_bytes() == (second.truth / name).read_bytes()
    other = Settings(home=tmp_path / "c")
    generate(other.landing, other.truth, GenerateRequest(**{**SMALL.__dict__, "seed": 12}))
    assert landing_files(other) != landing_files(first)


def test_truth_lives_beside_landing_never_inside(generated_home):
    settings, _ = generated_home
    assert {p.name for p in settings.truth.iterdir()} == {
        "persons.parquet",
        "defects.parquet",
        "generation.json",
        "identity_noise.parquet",  # generated data is dirty by default
        "phone_changes.parquet",
        "shared_phones.parquet",
    }
    assert not any(
        "truth" in p.parts or (p.suffix == ".json" and p.name != "generation.json")
        for p in settings.landing.rglob("*")
    )
    assert json.loads((settings.truth / "generation.json").read_text())["sales_lines"] > 0


def test_every_file_has_a_matching_control_file(generated_home):
    settings, summary = generated_home
    data = [p for p in settings.landing.rglob("*") if p.suffix in (".csv", ".parquet")]
    assert len(data) == summary.files == 6 * summary.request.days
    for path in data:
        control = json.loads(path.with_name(path.name + ".ok").read_text())
        assert control["sha256"] == sha256_hex(path.read_bytes())
        rows = (
            pl.read_csv(path, infer_schema=False).height
            if path.suffix == ".csv"
            else pl.read_parquet(path).height
        )
        assert control["rows"] == rows


def test_identifiers_are_realistic_and_written_many_ways(clean_generated_home):
    settings = clean_generated_home
    sales = read_source(settings, "sales")
    phones = sales["customer_phone"].drop_nulls()
    normalised = pl.select(pii.normalise("phone", pl.lit(phones))).to_series()
    assert normalised.str.contains(r"^1[3-9]\d{9}$").all()
    assert phones.str.starts_with("+86").any() and phones.str.starts_with("0086").any()
    assert phones.str.contains("-").any() and phones.str.contains(" ").any()
    ids = sales["customer_id_number"].drop_nulls()
    normalised_ids = pl.select(pii.normalise("id_number", pl.lit(ids))).to_series()
    assert pl.select(pii.is_valid("id_number", pl.lit(normalised_ids))).to_series().all()
    assert ids.str.ends_with("x").any()
    emails = sales["customer_email"].drop_nulls()
    assert emails.str.contains(r"[A-Z]").any() and emails.str.contains(r"^\s").any()
    assert sales["customer_name"].drop_nulls().str.contains(r"^[\u4e00-\u9fff]{2,4}$").all()


def _identity_records(settings: Settings) -> pl.DataFrame:
    """(record, person, identifier) for every identifier a sales or consultation record shows."""
    sales = read_source(settings, "sales").select(
        pl.col("order_id").alias("record_id"),
        "member_id",
        pl.col("customer_phone").alias("phone"),
        pl.col("customer_email").alias("email"),
        pl.col("customer_id_number").alias("id_number"),
    )
    consultations = read_source(settings, "consultations").select(
        pl.col("consultation_id").alias("record_id"),
        "member_id",
        pl.col("patient_phone").alias("phone"),
        pl.lit(None, pl.String).alias("email"),
        pl.col("patient_id_number").alias("id_number"),
    )
    records = pl.concat([sales, consultations]).unique(maintain_order=True)
    long = (
        records.select(
            "record_id",
            pl.concat_list(
                ("phone:" + pii.normalise("phone", pl.col("phone"))),
                ("email:" + pii.normalise("email", pl.col("email"))),
                ("id:" + pii.normalise("id_number", pl.col("id_number"))),
                ("member:" + pl.col("member_id")),
            ).alias("identifier"),
        )
        .explode("identifier")
        .drop_nulls()
    )
    persons = pl.read_parquet(settings.truth / "persons.parquet")
    return long.join(persons, on="record_id", how="left")


def test_truth_identity_is_exact_and_resolvable(clean_generated_home):
    """Without identity noise, no identifier is shared by two people, and each person's
    records link up."""
    settings = clean_generated_home
    records = _identity_records(settings)
    assert records["person_id"].null_count() == 0
    owners = records.group_by("identifier").agg(pl.col("person_id").n_unique())
    assert owners.filter(pl.col("person_id") > 1).is_empty()
    # Union-find over records that share an identifier, per person.
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for _, group in records.group_by("identifier"):
        ids = group["record_id"].to_list()
        for other in ids[1:]:
            parent[find(other)] = find(ids[0])
    components = (
        records.select("record_id", "person_id")
        .unique()
        .with_columns(component=pl.col("record_id").map_elements(find, return_dtype=pl.String))
    )
    split = components.group_by("person_id").agg(pl.col("component").n_unique())
    assert split.filter(pl.col("component") > 1).is_empty()


def test_every_kind_of_defect_is_injected_with_its_key(generated_home):
    settings, _ = generated_home
    defects = pl.read_parquet(settings.truth / "defects.parquet")
    kinds = set(defects.select(pl.concat_str("family", pl.lit(":"), "defect")).to_series())
    expected = (
        {f"RX:{k}" for k in RX_REASONS}
        | {f"TRACE:{k}" for k in TRACE_ISSUES}
        | {f"LEDGER:{k}" for k in LEDGER_BREAKS}
        | {"MARKETING:OVER_BUDGET"}
        | {f"INGEST:{k}" for source in INGEST_DEFECTS.values() for k in source}
    )
    assert expected <= kinds
    assert not any(k.startswith("FILE:") for k in kinds)  # only on request
    ingest = defects.filter(pl.col("family") == "INGEST")
    assert ingest["file_name"].null_count() == 0 and ingest["row_number"].null_count() == 0
    sales_like = defects.filter(pl.col("family").is_in(["RX", "TRACE"]))
    assert sales_like["order_id"].null_count() == 0 and sales_like["line_no"].null_count() == 0


def test_file_defects_only_on_request(tmp_path):
    settings = Settings(home=tmp_path / "h")
    generate(settings.landing, settings.truth, SMALL)
    defects = pl.read_parquet(settings.truth / "defects.parquet")
    assert set(defects.filter(pl.col("family") == "FILE")["defect"]) == set(FILE_DEFECTS)


def test_the_ledger_posts_every_clean_sale_as_spec_says(generated_home):
    """As finance posts (docs/product.md): per order, 1122 = net + tax, 2203 = redeemed −
    earned, 6001 = gross − discount − earned, 2221 = tax; journals balance."""
    settings, _ = generated_home
    defects = pl.read_parquet(settings.truth / "defects.parquet")
    touched = (
        defects["order_id"].drop_nulls().to_list() + defects["source_doc_id"].drop_nulls().to_list()
    )
    sales = (
        read_source(settings, "sales")
        .filter(~pl.col("order_id").is_in(touched))
        .with_columns(
            pl.col("quantity").cast(pl.Int64),
            *(
                pl.col(c).cast(pl.Decimal(18, 2))
                for c in ("unit_price", "discount_amount", "net_amount", "tax_amount")
            ),
            *(pl.col(c).cast(pl.Int64) for c in ("points_redeemed", "points_earned")),
        )
        .unique(["order_id", "line_no"])
    )
    ledger = pl.read_parquet(settings.landing / "ledger" / "*" / "*.parquet")
    assert (
        ledger.group_by("journal_id")
        .agg((pl.col("debit").sum() - pl.col("credit").sum()).alias("d"))
        .filter(pl.col("d") != 0)
        .is_empty()
    )
    sign = pl.when(pl.col("line_type") == "RETURN").then(-1).otherwise(1)
    expected = sales.group_by("order_id").agg(
        (sign * (pl.col("net_amount") + pl.col("tax_amount"))).sum().alias("1122"),
        (
            sign
            * (
                pl.col("quantity") * pl.col("unit_price")
                - pl.col("discount_amount")
                - pl.col("points_earned").cast(pl.Decimal(18, 2)) / 100
            )
        )
        .sum()
        .alias("6001"),
        (sign * pl.col("tax_amount")).sum().alias("2221"),
        (sign * (pl.col("points_redeemed") - pl.col("points_earned"))).sum().alias("2203_points"),
    )
    net = (
        ledger.group_by("source_doc_id")
        .agg(
            *(
                (
                    pl.when(pl.col("account_code") == account)
                    .then(
                        pl.col("debit") - pl.col("credit")
                        if account == "1122"
                        else pl.col("credit") - pl.col("debit")
                    )
                    .otherwise(0)
                )
                .sum()
                .alias(account)
                for account in ("1122", "6001", "2221")
            ),
            (
                pl.when(pl.col("account_code") == "2203")
                .then(pl.col("debit") - pl.col("credit"))
                .otherwise(0)
            )
            .sum()
            .alias("2203"),
        )
        .rename({"source_doc_id": "order_id"})
    )
    compared = expected.join(net, on="order_id", how="left", suffix="_gl")
    assert compared["1122_gl"].null_count() == 0
    for account in ("1122", "6001", "2221"):
        assert (
            compared[account].cast(pl.Float64) - compared[f"{account}_gl"].cast(pl.Float64)
        ).abs().max() < 0.005, account
    points = compared.select(
        (pl.col("2203_points") / 100 - pl.col("2203").cast(pl.Float64)).abs().max()
    ).item()
    assert points < 0.005


def test_clean_prescription_sales_follow_the_rules(generated_home):
    settings, _ = generated_home
    sales = read_source(settings, "sales")
    consultations = read_source(settings, "consultations").filter(
        pl.col("prescription_id").is_not_null()
    )
    stores = load_seeds()["stores"]
    rx_skus = load_seeds()["products"].filter(pl.col("is_rx") == "true")["sku"].implode()
    defects = pl.read_parquet(settings.truth / "defects.parquet")
    flagged = defects.filter(pl.col("family") == "RX").select(
        "order_id", pl.col("line_no").cast(pl.String)
    )
    rx = sales.filter(pl.col("sku").is_in(rx_skus) & (pl.col("line_type") == "SALE")).join(
        flagged, on=["order_id", "line_no"], how="anti"
    )
    assert rx.height > 20
    checked = rx.join(
        consultations.select(
            "prescription_id",
            pl.col("rx_sku").alias("sku"),
            "rx_max_qty",
            "rx_valid_until",
            "consult_ts",
        ),
        on=["prescription_id", "sku"],
        how="left",
    ).join(
        stores.select("store_id", "store_type", "license_valid_from", "license_valid_to"),
        on="store_id",
    )
    day = pl.col("order_ts").str.slice(0, 10)
    assert checked["rx_max_qty"].null_count() == 0  # prescribed, and the sku is on it
    assert checked.filter(
        pl.col("quantity").cast(pl.Int64) > pl.col("rx_max_qty").cast(pl.Int64)
    ).is_empty()
    assert checked.filter(day > pl.col("rx_valid_until")).is_empty()
    assert checked.filter(pl.col("order_ts") < pl.col("consult_ts")).is_empty()
    assert set(checked["store_type"]) <= {"PHARMACY", "ONLINE"}
    assert checked.filter(
        (day < pl.col("license_valid_from")) | (day > pl.col("license_valid_to"))
    ).is_empty()


@pytest.mark.parametrize("bad", [{"days": 0}, {"scale": 0}, {"anomalies": 0.9}])
def test_bad_arguments_are_refused(bad):
    from pipelines.settings import SettingsError

    with pytest.raises(SettingsError):
        GenerateRequest(**{**SMALL.__dict__, **bad})


def test_a_window_generated_in_pieces_keeps_keys_unique_and_truth_whole(tmp_path, monkeypatch):
    """A window too large for memory is generated a few months at a time (here: a month):
    keys stay unique across the pieces and the truth covers every piece."""
    import pipelines.generate as generator

    request = GenerateRequest(start=date(2024, 1, 20), days=45, scale=0.02, seed=5, anomalies=0.01)
    monkeypatch.setattr(generator, "CHUNK_SCALE_DAYS", 31 * request.scale)
    pieces = generator.chunks(generator.window(request.start, request.days), request.scale)
    assert [(p[0], p[-1]) for p in pieces] == [
        (date(2024, 1, 20), date(2024, 1, 31)),
        (date(2024, 2, 1), date(2024, 2, 29)),
        (date(2024, 3, 1), date(2024, 3, 4)),
    ]
    settings = Settings(home=tmp_path / "home")
    summary = generate(settings.landing, settings.truth, request)
    sales = read_source(settings, "sales")
    assert sales.height == summary.sales_lines
    truth = pl.read_parquet(settings.truth / "defects.parquet")
    assert truth["defect_id"].is_unique().all()
    duplicated = truth.filter(pl.col("defect") == "DUPLICATE_KEY").filter(
        pl.col("source") == "sales"
    )
    assert sales.select("order_id", "line_no").is_duplicated().sum() == 2 * duplicated.height
    sold = sales.filter((pl.col("line_type") == "SALE") & pl.col("trace_code").is_not_null())
    repeated_codes = sold.filter(pl.col("trace_code").is_duplicated())["trace_code"].n_unique()
    assert repeated_codes == truth.filter(pl.col("defect") == "DUPLICATE_CODE").height
    persons = pl.read_parquet(settings.truth / "persons.parquet")
    assert set(sales["order_id"]) <= set(persons["record_id"])
    ledger = pl.read_parquet(sorted((settings.landing / "ledger").rglob("*.parquet")))
    assert not ledger.select("journal_id", "line_no").is_duplicated().any()
