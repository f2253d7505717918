"""Contract-driven row checks: typed values, rules, references, tokens.

Every value is read as text and parsed by the contract's types, so a bad value never
fails the file: it sends its row to quarantine with a reason naming the column and the
rule. Reasons never quote personal data.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from pipelines import pii
from pipelines.contracts import Column, Contract
from pipelines.ingest.frames import BUSINESS_DATE, FILE_ROW, REASON, ParsedBatch
from pipelines.ingest.identity_features import IdentityFeatures
from pipelines.ingest.keys import duplicate_reasons
from pipelines.settings import BUSINESS_TIMEZONE

_SHOWN_CHARS = 40
_TIMESTAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$"


def _shown(text: pl.Expr) -> pl.Expr:
    """What a reason may quote of a delivered value: its start, personal data withheld."""
    return pii.redact_expr(text.cast(pl.String)).str.slice(0, _SHOWN_CHARS)


@dataclass(frozen=True)
class Check:
    """A row rule: ``broken`` is a cheap boolean over the whole file; ``message`` is built
    only for the few rows where it is true."""

    broken: pl.Expr
    message: pl.Expr


def _text(name: str) -> pl.Expr:
    """A column's text as delivered, trimmed, empty as null."""
    return pl.col(f"{name}::text")


def _value(name: str) -> pl.Expr:
    """The parsed value of a column (PII columns: the normalised value), under its own name,
    as the contract's row rules refer to it."""
    return pl.col(name)


def _parse(column: Column) -> tuple[pl.Expr, Check | None]:
    """Typed value from the text by the column's logical type, and the parse check."""
    text, name, dtype = _text(column.name), column.name, column.polars_dtype
    if column.logical_type == "string":
        return text, None
    if column.logical_type == "integer":
        ok = text.str.contains(r"^[+-]?\d{1,18}$")
        what = "a whole number"
        typed = pl.when(ok).then(text.cast(pl.Int64, strict=False)).cast(dtype, strict=False)
    elif column.logical_type == "number":
        scale = column.decimal_scale or 0
        fraction = rf"(\.\d{{1,{scale}}})?" if scale else ""
        ok = text.str.contains(rf"^[+-]?\d{{1,16}}{fraction}$")
        what = f"a number with at most {scale} decimals (no thousands separators)"
        typed = pl.when(ok).then(text.cast(dtype, strict=False))
    elif column.logical_type == "date":
        ok = text.str.contains(r"^\d{4}-\d{2}-\d{2}$")
        what = "a date YYYY-MM-DD"
        typed = pl.when(ok).then(text.str.to_date("%Y-%m-%d", strict=False))
    elif column.logical_type == "timestamp":
        ok = text.str.contains(_TIMESTAMP_PATTERN)
        what = "an ISO 8601 time with offset (2024-03-01T10:15:00+08:00)"
        # The pattern allows one space (or T) between date and time and a Z only at the end.
        iso = text.str.replace(" ", "T", literal=True).str.replace("Z", "+00:00", literal=True)
        typed = pl.when(ok).then(
            iso.str.to_datetime(
                "%Y-%m-%dT%H:%M:%S%.f%z", strict=False, time_zone="UTC", time_unit="us"
            )
        )
    elif column.logical_type == "boolean":
        lowered = text.str.to_lowercase()
        typed = (
            pl.when(lowered.is_in(["true", "1"]))
            .then(True)
            .when(lowered.is_in(["false", "0"]))
            .then(False)
        )
        what = "true or false"
    else:
        raise ValueError(f"{name}: logical type {column.logical_type} is not supported")
    check = Check(
        broken=text.is_not_null() & _value(name).is_null(),
        message=pl.format(f"{name}: '{{}}' is not {what}", _shown(text)),
    )
    return typed, check


def _value_checks(column: Column) -> list[Check]:
    """Rules on a parsed, non-PII value: allowed values, pattern, bounds, length."""
    name, text, value = column.name, _text(column.name), _value(column.name)
    checks = []
    if column.required:
        checks.append(Check(text.is_null(), pl.lit(f"{name}: required but empty")))
    if column.valid_values is not None:
        allowed = ", ".join(column.valid_values)
        checks.append(
            Check(
                value.is_not_null() & ~value.cast(pl.String).is_in(column.valid_values),
                pl.format(f"{name}: '{{}}' is not one of {allowed}", _shown(text)),
            )
        )
    if column.pattern is not None:
        checks.append(
            Check(
                value.is_not_null() & ~value.cast(pl.String).str.contains(column.pattern),
                pl.format(f"{name}: '{{}}' does not match the contract's pattern", _shown(text)),
            )
        )
    bounds = ((column.minimum, "below the minimum"), (column.maximum, "above the maximum"))
    for bound, word in bounds:
        if bound is None:
            continue
        literal = (
            pl.lit(bound).cast(column.polars_dtype)
            if column.logical_type == "number"
            else pl.lit(int(bound))
        )
        broken = value < literal if word.startswith("below") else value > literal
        checks.append(Check(broken, pl.format(f"{name}: {{}} is {word} {bound}", _shown(text))))
    if column.max_length is not None:
        checks.append(
            Check(
                value.str.len_chars() > column.max_length,
                pl.lit(f"{name}: longer than {column.max_length} characters"),
            )
        )
    return checks


def _pii_checks(column: Column) -> list[Check]:
    """PII rules run on the normalised value; messages never show it. A value of the
    right shape that fails its kind's rule (an ID number's check digit) is a typo of a
    real person's identifier: the row loads, with the verdict (``<column>_valid``)."""
    value = _value(column.name)
    checks = []
    if column.pattern:
        checks.append(
            Check(
                value.is_not_null() & ~value.str.contains(column.pattern),
                pl.lit(f"{column.name}: not a valid {column.pii_kind} (value withheld)"),
            )
        )
    if column.required:
        checks.append(Check(value.is_null(), pl.lit(f"{column.name}: required but empty")))
    return checks


def _business_date_check(contract: Contract) -> Check:
    """The row's business date must be its delivery folder's (BUSINESS_DATE of the batch)."""
    column = contract.column(contract.business_date_column)
    value = _value(column.name)
    local_date = (
        value.dt.convert_time_zone(BUSINESS_TIMEZONE).dt.date()
        if column.logical_type == "timestamp"
        else value
    )
    return Check(
        local_date.is_not_null() & (local_date != pl.col(BUSINESS_DATE)),
        pl.format(
            f"{column.name}: business date {{}} (Asia/Shanghai) is not this delivery's date "
            f"{{}}; deliver the row under landing/{contract.source}/{{}}/",
            local_date.cast(pl.String),
            pl.col(BUSINESS_DATE).cast(pl.String),
            local_date.cast(pl.String),
        ),
    )


def _reference_checks(contract: Contract, seeds: dict[str, pl.DataFrame]) -> list[Check]:
    """Rows whose foreign key into the seeds is unknown (a hash lookup per reference)."""
    checks = []
    for ref in contract.references:
        texts = [f"{c}::text" for c in ref.columns]
        known = (
            seeds[ref.seed]
            .select(
                pl.struct(pl.col(s).alias(t) for s, t in zip(ref.seed_columns, texts, strict=True))
            )
            .to_series()
            .unique()
        )
        all_present = pl.all_horizontal(pl.col(t).is_not_null() for t in texts)
        values = pl.concat_str([_shown(_text(c)) for c in ref.columns], separator="', '")
        checks.append(
            Check(
                all_present & ~pl.struct(texts).is_in(known.implode()),
                pl.format(
                    f"({', '.join(ref.columns)}) = ('{{}}') not found in seeds/{ref.seed}.csv",
                    values,
                ),
            )
        )
    return checks


def _work_frame(batch: pl.DataFrame, contract: Contract) -> tuple[pl.LazyFrame, list[Check]]:
    """Where each row came from, the text of every column, and its parsed (or, for PII,
    normalised) value. Typed Parquet columns already holding the contract's type keep
    their value as it is (their text is made only for the rows a message quotes)."""
    texts, values, checks, shapes = [], [], [], []
    for column in contract.columns:
        name = column.name
        if column.logical_type != "string" and batch.schema[name] == column.polars_dtype:
            texts.extend([pl.col(name), pl.col(name).alias(f"{name}::text")])
            checks.extend(_value_checks(column))
            continue
        text = pl.col(name).cast(pl.String).str.strip_chars()
        texts.append(pl.when(text.str.len_bytes() > 0).then(text).alias(f"{name}::text"))
        if column.is_pii:
            values.append(pii.normalise(column.pii_kind, _text(name)).alias(name))
            checks.extend(_pii_checks(column))
            continue
        typed, parse_check = _parse(column)
        values.append(typed.alias(name))
        checks.extend([parse_check] if parse_check else [])
        checks.extend(_value_checks(column))
        if column.logical_type == "string":
            shapes.append(pii.has_shape(_text(name)).fill_null(False).alias(_shape_flag(name)))
            if not column.free_text:
                checks.append(
                    Check(
                        pl.col(_shape_flag(name)),
                        pl.lit(
                            f"{name}: holds a value shaped like a phone, e-mail or ID number "
                            "(value withheld); personal data belongs in the personal columns only"
                        ),
                    )
                )
    work = batch.lazy().select(*FILE_ROW, *texts).with_columns(*values).with_columns(*shapes)
    return work, checks


def _shape_flag(name: str) -> str:
    return f"::shape:{name}"


def _redact_free_text(work: pl.DataFrame, contract: Contract) -> pl.DataFrame:
    """Personal data typed into a free-text column is cut out of it, on the few rows that
    hold some (the row loads)."""
    for column in contract.columns:
        flag = _shape_flag(column.name)
        if not column.free_text or flag not in work.columns:
            continue
        rows = work.with_row_index("::row").filter(pl.col(flag))
        if rows.is_empty():
            continue
        for target in (column.name, f"{column.name}::text"):
            redacted = rows.select(pii.redact_expr(pl.col(target))).to_series()
            work = work.with_columns(work[target].scatter(rows["::row"], redacted))
    return work


def parse_rows(
    batch: pl.DataFrame,
    contract: Contract,
    seeds: dict[str, pl.DataFrame],
    pii_key: bytes,
    identity: IdentityFeatures | None = None,
) -> ParsedBatch:
    """Type, check and tokenise the rows of one or more files (as read by read_frame, with one
    schema); split them into loaded and quarantined rows, each with its file and date.

    Parsing and every check run as one lazy query, so Polars shares common work and
    spreads the columns over the cores; messages are built for the failing rows only."""
    work, checks = _work_frame(batch, contract)
    checks.append(_business_date_check(contract))
    checks.extend(_reference_checks(contract, seeds))
    checks.extend(
        Check(
            ~pl.sql_expr(rule.condition).fill_null(True),
            pl.lit(f"rule {rule.name} broken: {rule.description}"),
        )
        for rule in contract.row_rules
    )
    flags = [c.broken.fill_null(False).alias(f"::check{i}") for i, c in enumerate(checks)]
    work = (
        work.with_columns(*flags)
        .with_columns(pl.any_horizontal(pl.col(r"^::check\d+$")).alias("::bad"))
        .collect()
    )
    bad = work.filter(pl.col("::bad"))
    reasons = bad.select(
        *FILE_ROW,
        pl.concat_str(
            [pl.when(pl.col(f"::check{i}")).then(c.message) for i, c in enumerate(checks)],
            separator="; ",
            ignore_nulls=True,
        ).alias(REASON),
    )
    work = _redact_free_text(work.drop(pl.col(r"^::check\d+$")), contract)
    protected = [
        pii.protect(column.pii_kind, work[column.name], pii_key).rename(
            {"token": f"{column.name}_token", "masked": f"{column.name}_masked"}
        )
        for column in contract.pii_columns
    ]
    work = work.hstack([s for frame in protected for s in frame.get_columns()]).with_columns(
        pl.when(pl.col(column.name).is_not_null())
        .then(pii.is_valid(column.pii_kind, pl.col(column.name)))
        .alias(f"{column.name}_valid")
        for column in contract.pii_columns
        if column.pii_kind in pii.CHECKED_KINDS
    )
    if identity is not None:
        kept = ~work["::bad"]
        for column in contract.pii_columns:
            identity.add(
                column.pii_kind,
                work[column.name].filter(kept),
                work[f"{column.name}_token"].filter(kept),
            )

    good = work.filter(~pl.col("::bad"))
    duplicate = duplicate_reasons(good, contract)
    good = good.join(duplicate, on=FILE_ROW, how="left", maintain_order="left")
    reasons = pl.concat(
        [
            reasons,
            good.filter(pl.col("::duplicate").is_not_null()).select(
                *FILE_ROW, pl.col("::duplicate").alias(REASON)
            ),
        ]
    )
    loaded = good.filter(pl.col("::duplicate").is_null()).select(
        BUSINESS_DATE,
        *(pl.col(name).cast(dtype) for name, dtype in contract.lake_schema().items()),
    )
    # Quarantine keeps each column's text as delivered, with anything shaped like personal
    # data cut out (personal columns only as token + mask).
    plain = {c.name for c in contract.columns if not c.is_pii}
    quarantined = reasons.join(work, on=FILE_ROW, how="left", maintain_order="left").select(
        BUSINESS_DATE,
        *(
            (pii.redact_expr(_text(name).cast(pl.String)) if name in plain else pl.col(name))
            .cast(dtype)
            .alias(name)
            for name, dtype in contract.quarantine_schema().items()
        ),
    )
    return ParsedBatch(loaded=loaded, quarantined=quarantined)
