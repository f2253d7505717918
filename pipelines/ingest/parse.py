"""Contract-driven parsing of one delivered file into loaded and quarantined rows.

Every value is read as text and parsed by the contract's types, so a bad value never
fails the file: it sends its row to quarantine with a reason naming the column and the
rule. Only problems with the file as a whole (encoding, header, control file, unreadable
bytes) raise :class:`FileProblem`. Reasons never quote personal data.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from pipelines import pii
from pipelines.contracts import Column, Contract
from pipelines.ingest.landing import Control, FileProblem, LandedFile, sha256_hex
from pipelines.settings import BUSINESS_TIMEZONE

ROW_NUMBER = "_source_row_number"
SOURCE_FILE = "_source_file"
REASON = "_reason"
_SHOWN_CHARS = 40
_TIMESTAMP_PATTERN = (
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$"
)
_UTF8_BOM = b"\xef\xbb\xbf"


@dataclass
class ParsedFile:
    loaded: pl.DataFrame
    quarantined: pl.DataFrame
    rows_read: int
    warnings: list[str] = field(default_factory=list)


def check_control(landed: LandedFile, content: bytes, control: Control) -> None:
    digest = sha256_hex(content)
    if digest != control.sha256:
        raise FileProblem(
            landed.path,
            f"sha256 {digest[:12]}… does not match its control file ({control.sha256[:12]}…): "
            "the file is incomplete (truncated or still copying) or changed after the control "
            "file was written",
            "deliver the complete file again, then its .ok control file",
        )


def _decode_problem(landed: LandedFile, content: bytes, error: UnicodeDecodeError) -> FileProblem:
    line = content[: error.start].count(b"\n") + 1
    try:
        content.decode("gb18030")
        guess = "it looks like GBK/GB18030"
    except UnicodeDecodeError:
        guess = "it is not text in a known Chinese encoding either"
    return FileProblem(
        landed.path,
        f"not UTF-8 text (first invalid byte on line {line}); {guess}",
        "re-export the file as UTF-8 (e.g. `iconv -f GB18030 -t UTF-8`) and deliver it again "
        "with a new .ok control file",
    )


def _first_ragged_line(text: str, width: int) -> int | None:
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if len(row) != width:
            return number
    return None


def _read_csv(landed: LandedFile, content: bytes) -> pl.DataFrame:
    if not content.strip():
        raise FileProblem(
            landed.path,
            "the file is empty (no header row)",
            "deliver a day without rows as a file holding just the header row",
        )
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _decode_problem(landed, content, exc) from exc
    if text.startswith("\ufeff"):
        content = content[len(_UTF8_BOM) :]
        text = text[1:]
    header = next(csv.reader(io.StringIO(text.split("\n", 1)[0])), [])
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise FileProblem(
            landed.path,
            f"the header repeats column(s) {', '.join(duplicated)}",
            "export each column once",
        )
    try:
        return pl.read_csv(
            io.BytesIO(content), infer_schema=False, has_header=True, quote_char='"'
        )
    except pl.exceptions.PolarsError as exc:
        # Polars' message quotes the offending field, which may be personal data: find the
        # line ourselves and say only where it is.
        line = _first_ragged_line(text, len(header))
        where = f" (first bad line: {line})" if line else ""
        raise FileProblem(
            landed.path,
            f"not readable as comma-separated values{where}: a row has the wrong number of "
            "fields or an unclosed quote",
            "fix the export so every row has the header's columns, quoted where needed",
        ) from exc


def _read_parquet(landed: LandedFile, content: bytes) -> pl.DataFrame:
    try:
        return pl.read_parquet(io.BytesIO(content))
    except Exception as exc:  # polars/arrow raise several types for corrupt bytes
        raise FileProblem(
            landed.path,
            "not a readable Parquet file (corrupt or truncated)",
            "export the file again and deliver it with a new .ok control file",
        ) from exc


def _check_columns(landed: LandedFile, frame: pl.DataFrame, contract: Contract) -> list[str]:
    present = set(frame.columns)
    missing = [c for c in contract.column_names if c not in present]
    extra = [c for c in frame.columns if c not in set(contract.column_names)]
    if missing:
        hint = f"; the file has unexpected column(s) {', '.join(extra)}" if extra else ""
        raise FileProblem(
            landed.path,
            f"missing column(s) {', '.join(missing)} required by the {contract.source} contract "
            f"{contract.path.name} v{contract.version}{hint}",
            "export the columns under the contract's names (a renamed column must be renamed "
            "back), or change the contract first if the source really changed",
        )
    return [
        f"ignored column(s) not in the {contract.source} contract: {', '.join(extra)}"
    ] * bool(extra)


def _shown(text: pl.Expr) -> pl.Expr:
    return text.str.slice(0, _SHOWN_CHARS)


def _parse_text(column: Column, text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(typed value, error message) from a text value by the column's logical type."""
    dtype = column.polars_dtype
    name = column.name
    if column.logical_type == "string":
        return text, pl.lit(None, dtype=pl.String)
    if column.logical_type == "integer":
        ok = text.str.contains(r"^[+-]?\d{1,18}$")
        what = "a whole number"
        typed = pl.when(ok).then(text.cast(pl.Int64, strict=False)).cast(dtype, strict=False)
    elif column.logical_type == "number":
        scale = column.decimal_scale or 0
        ok = text.str.contains(rf"^[+-]?\d{{1,16}}(\.\d{{1,{scale}}})?$" if scale else r"^[+-]?\d+$")
        what = f"a number with at most {scale} decimals (no thousands separators)"
        typed = pl.when(ok).then(text.cast(dtype, strict=False))
    elif column.logical_type == "date":
        ok = text.str.contains(r"^\d{4}-\d{2}-\d{2}$")
        what = "a date YYYY-MM-DD"
        typed = pl.when(ok).then(text.str.to_date("%Y-%m-%d", strict=False))
    elif column.logical_type == "timestamp":
        ok = text.str.contains(_TIMESTAMP_PATTERN)
        what = "an ISO 8601 time with offset (2024-03-01T10:15:00+08:00)"
        iso = text.str.replace(r"^(\d{4}-\d{2}-\d{2}) ", "${1}T").str.replace(r"Z$", "+00:00")
        typed = pl.when(ok).then(
            iso.str.to_datetime(
                "%Y-%m-%dT%H:%M:%S%.f%z", strict=False, time_zone="UTC", time_unit="us"
            )
        )
    elif column.logical_type == "boolean":
        lowered = text.str.to_lowercase()
        typed = pl.when(lowered.is_in(["true", "1"])).then(True).when(
            lowered.is_in(["false", "0"])
        ).then(False)
        what = "true or false"
    else:
        raise ValueError(f"{name}: logical type {column.logical_type} is not supported")
    error = pl.when(text.is_not_null() & typed.is_null()).then(
        pl.format(f"{name}: '{{}}' is not {what}", _shown(text))
    )
    return typed, error


def _value_errors(column: Column, typed: pl.Expr, text: pl.Expr) -> list[pl.Expr]:
    """Rules on a parsed, non-PII value: allowed values, pattern, bounds, length."""
    name = column.name
    errors = []
    if column.valid_values is not None:
        allowed = ", ".join(column.valid_values)
        errors.append(
            pl.when(typed.is_not_null() & ~typed.cast(pl.String).is_in(column.valid_values)).then(
                pl.format(f"{name}: '{{}}' is not one of {allowed}", _shown(text))
            )
        )
    if column.pattern is not None:
        errors.append(
            pl.when(typed.is_not_null() & ~typed.cast(pl.String).str.contains(column.pattern)).then(
                pl.format(f"{name}: '{{}}' does not match the contract's pattern", _shown(text))
            )
        )
    for bound, broken, word in (
        (column.minimum, lambda b: typed < b, "below the minimum"),
        (column.maximum, lambda b: typed > b, "above the maximum"),
    ):
        if bound is not None:
            literal = (
                pl.lit(bound).cast(column.polars_dtype)
                if column.logical_type == "number"
                else pl.lit(int(bound))
            )
            errors.append(
                pl.when(broken(literal)).then(pl.format(f"{name}: {{}} is {word} {bound}", text))
            )
    if column.max_length is not None:
        errors.append(
            pl.when(typed.str.len_chars() > column.max_length).then(
                pl.lit(f"{name}: longer than {column.max_length} characters")
            )
        )
    return errors


def _business_date_error(contract: Contract, day: date, typed: pl.Expr) -> pl.Expr:
    column = contract.column(contract.business_date_column)
    local_date = (
        typed.dt.convert_time_zone(BUSINESS_TIMEZONE).dt.date()
        if column.logical_type == "timestamp"
        else typed
    )
    return pl.when(local_date.is_not_null() & (local_date != pl.lit(day))).then(
        pl.format(
            f"{column.name}: business date {{}} (Asia/Shanghai) is not this delivery's date "
            f"{day.isoformat()}; deliver the row under landing/{contract.source}/{{}}/",
            local_date.cast(pl.String),
            local_date.cast(pl.String),
        )
    )


def _reference_errors(
    contract: Contract, frame: pl.DataFrame, seeds: dict[str, pl.DataFrame]
) -> pl.DataFrame:
    """One error column per foreign key into the seeds (null where the key is found)."""
    out = frame.select(ROW_NUMBER)
    for index, ref in enumerate(contract.references):
        known = (
            seeds[ref.seed]
            .select(
                [pl.col(s).alias(c) for c, s in zip(ref.columns, ref.seed_columns, strict=True)]
            )
            .unique()
            .with_columns(_known=pl.lit(True))
        )
        keyed = frame.select(ROW_NUMBER, *ref.columns).join(
            known, on=list(ref.columns), how="left", nulls_equal=False, maintain_order="left"
        )
        all_present = pl.all_horizontal(pl.col(c).is_not_null() for c in ref.columns)
        values = pl.concat_str([_shown(pl.col(c)) for c in ref.columns], separator="', '")
        names = ", ".join(ref.columns)
        message = pl.format(
            f"({names}) = ('{{}}') not found in seeds/{ref.seed}.csv", values
        )
        errors = keyed.select(
            ROW_NUMBER,
            pl.when(all_present & pl.col("_known").is_null()).then(message).alias(f"_ref{index}"),
        )
        out = out.join(errors, on=ROW_NUMBER, how="left", maintain_order="left")
    return out


def read_frame(landed: LandedFile, content: bytes, control: Control) -> pl.DataFrame:
    """Bytes → a frame with every column, after the file-level checks."""
    check_control(landed, content, control)
    frame = _read_csv(landed, content) if landed.format == "csv" else _read_parquet(landed, content)
    if frame.height != control.rows:
        raise FileProblem(
            landed.path,
            f"holds {frame.height} data rows but its control file says {control.rows}",
            "deliver the complete file again with a matching .ok control file",
        )
    return frame


def parse_rows(
    landed: LandedFile,
    frame: pl.DataFrame,
    contract: Contract,
    seeds: dict[str, pl.DataFrame],
    pii_key: bytes,
) -> ParsedFile:
    """Type, check and tokenise every row; split into loaded and quarantined rows."""
    warnings = _check_columns(landed, frame, contract)
    day = landed.business_date
    text_exprs, typed_exprs, error_exprs = [], [], []
    for column in contract.columns:
        source = pl.col(column.name)
        already_typed = frame.schema[column.name] == column.polars_dtype
        text = source.cast(pl.String).str.strip_chars()
        text = pl.when(text.str.len_chars() > 0).then(text)
        text_exprs.append(text.alias(column.name))
        if column.required:
            error_exprs.append(
                pl.when(text.is_null()).then(pl.lit(f"{column.name}: required but empty"))
            )
        if column.is_pii:
            continue  # tokenised below; the raw value goes no further
        if already_typed:
            typed, parse_error = source, pl.lit(None, dtype=pl.String)
        else:
            typed, parse_error = _parse_text(column, text)
        typed_exprs.append(typed.alias(column.name))
        error_exprs.append(parse_error)
        error_exprs.extend(_value_errors(column, typed, text))

    numbered = frame.with_row_index(ROW_NUMBER, offset=1).with_columns(
        pl.col(ROW_NUMBER).cast(pl.Int64)
    )
    text_frame = numbered.select(ROW_NUMBER, *text_exprs)
    typed_frame = numbered.select(ROW_NUMBER, *typed_exprs)

    pii_columns, pii_errors = [], []
    for column in contract.pii_columns:
        normalised = text_frame.select(pii.normalise(column.pii_kind, pl.col(column.name)))[
            column.name
        ]
        valid = pl.select(
            pii.is_valid(column.pii_kind, pl.lit(normalised))
            & (pl.lit(normalised).str.contains(column.pattern) if column.pattern else True)
        ).to_series()
        pii_columns.append(
            pii.tokenise(column.pii_kind, normalised, pii_key).alias(f"{column.name}_token")
        )
        pii_columns.append(
            pl.select(pii.mask(column.pii_kind, pl.lit(normalised))).to_series().alias(
                f"{column.name}_masked"
            )
        )
        pii_errors.append(
            pl.select(
                pl.when(pl.lit(normalised).is_not_null() & ~pl.lit(valid)).then(
                    pl.lit(f"{column.name}: not a valid {column.pii_kind} (value withheld)")
                )
            ).to_series().alias(f"_pii_error_{column.name}")
        )

    value_errors = numbered.select(
        ROW_NUMBER, **{f"_err{i}": expr for i, expr in enumerate(error_exprs)}
    )
    row_errors = typed_frame.select(
        _business_date=_business_date_error(contract, day, pl.col(contract.business_date_column)),
        **{
            f"_rule_{rule.name}": pl.when(~pl.sql_expr(rule.condition).fill_null(True)).then(
                pl.lit(f"rule {rule.name} broken: {rule.description}")
            )
            for rule in contract.row_rules
        },
    )
    reference_columns = sorted({c for ref in contract.references for c in ref.columns})
    reference_errors = _reference_errors(
        contract, text_frame.select(ROW_NUMBER, *reference_columns), seeds
    ).drop(ROW_NUMBER)
    checks = pl.concat(
        [value_errors, row_errors, pl.DataFrame(pii_errors), reference_errors], how="horizontal"
    )
    reasons = checks.select(
        ROW_NUMBER,
        pl.concat_str(
            [pl.col(c) for c in checks.columns if c != ROW_NUMBER], separator="; ", ignore_nulls=True
        ).alias(REASON),
    ).with_columns(pl.when(pl.col(REASON).str.len_chars() > 0).then(pl.col(REASON)).alias(REASON))

    protected = pl.DataFrame(pii_columns) if pii_columns else pl.DataFrame()
    lake_schema = contract.lake_schema()
    candidates = pl.concat([typed_frame, protected, reasons.drop(ROW_NUMBER)], how="horizontal")
    candidates = candidates.with_columns(pl.lit(landed.name).alias(SOURCE_FILE))

    good = candidates.filter(pl.col(REASON).is_null())
    duplicate_reason = _duplicate_reasons(good, contract, landed)
    good = good.join(duplicate_reason, on=ROW_NUMBER, how="left", maintain_order="left")
    bad_rows = pl.concat(
        [
            candidates.filter(pl.col(REASON).is_not_null()).select(ROW_NUMBER, REASON),
            good.filter(pl.col("_duplicate").is_not_null()).select(
                ROW_NUMBER, pl.col("_duplicate").alias(REASON)
            ),
        ]
    ).sort(ROW_NUMBER)
    loaded = good.filter(pl.col("_duplicate").is_null()).select(
        [pl.col(name).cast(dtype) for name, dtype in lake_schema.items()]
    )
    quarantine_text = pl.concat([text_frame, protected], how="horizontal").with_columns(
        pl.lit(landed.name).alias(SOURCE_FILE)
    )
    quarantined = bad_rows.join(
        quarantine_text, on=ROW_NUMBER, how="left", maintain_order="left"
    ).select(
        [pl.col(name).cast(dtype) for name, dtype in contract.quarantine_schema().items()]
    )
    return ParsedFile(
        loaded=loaded, quarantined=quarantined, rows_read=frame.height, warnings=warnings
    )


def _duplicate_reasons(good: pl.DataFrame, contract: Contract, landed: LandedFile) -> pl.DataFrame:
    """Later rows repeating an earlier row's primary key within the file."""
    key = list(contract.primary_key)
    first = (
        good.group_by(key, maintain_order=True)
        .agg(pl.col(ROW_NUMBER).min().alias("_first_row"))
    )
    joined = good.select(ROW_NUMBER, *key).join(
        first, on=key, how="left", nulls_equal=True, maintain_order="left"
    )
    return joined.select(
        ROW_NUMBER,
        pl.when(pl.col(ROW_NUMBER) != pl.col("_first_row"))
        .then(
            pl.format(
                f"duplicate key ({', '.join(key)}): same as row {{}} of {landed.name}",
                pl.col("_first_row"),
            )
        )
        .alias("_duplicate"),
    )


def quarantine_repeated_keys(
    parsed: ParsedFile, seen: pl.DataFrame, contract: Contract
) -> ParsedFile:
    """Move loaded rows whose key another file of the same partition already loaded."""
    key = list(contract.primary_key)
    if seen.is_empty() or parsed.loaded.is_empty():
        return parsed
    owners = seen.group_by(key).agg(pl.col(SOURCE_FILE).first().alias("_owner"))
    marked = parsed.loaded.join(owners, on=key, how="left", nulls_equal=True)
    repeated = marked.filter(pl.col("_owner").is_not_null())
    if repeated.is_empty():
        return parsed
    reason = pl.format(
        f"duplicate key ({', '.join(key)}): already loaded from {{}} for this business date",
        pl.col("_owner"),
    )
    moved = repeated.with_columns(reason.alias(REASON)).select(
        [
            pl.col(name).cast(pl.String) if dtype == pl.String() else pl.col(name).cast(dtype)
            for name, dtype in contract.quarantine_schema().items()
        ]
    )
    return ParsedFile(
        loaded=marked.filter(pl.col("_owner").is_null()).drop("_owner"),
        quarantined=pl.concat([parsed.quarantined, moved]).sort(ROW_NUMBER),
        rows_read=parsed.rows_read,
        warnings=parsed.warnings,
    )
