"""Reading one delivered file: its bytes checked against the control file, decoded and
parsed into the contract's columns as text, every row with where it came from.

Only problems with the file as a whole (encoding, header, control file, unreadable bytes)
raise :class:`FileProblem`; values are checked row by row later (:mod:`.rows`). Messages
never quote row contents: a row may hold personal data.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter

import polars as pl

from pipelines.contracts import Contract
from pipelines.ingest.frames import BUSINESS_DATE, ROW_NUMBER, SOURCE_FILE, ReadFile
from pipelines.ingest.landing import Control, FileProblem, LandedFile, sha256_hex

_UTF8_BOM = b"\xef\xbb\xbf"


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
    try:
        for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
            if row and len(row) != width:
                return number
    except csv.Error:
        return None  # a field beyond the csv module's limit: where it is stays unsaid
    return None


def _first_short_line(text: str, width: int) -> int | None:
    """The first line with fewer fields than the header (Polars would fill them with nulls
    without a word). Without quotes in the file a line's fields are its commas plus one;
    with quotes (a field may hold commas or line breaks) the csv module counts them."""
    if '"' in text:
        return _first_ragged_line(text, width)
    lines = pl.Series(text.split("\n"))
    fields = lines.str.count_matches(",", literal=True) + 1
    short = (fields < width) & (lines.str.strip_chars("\r").str.len_bytes() > 0)
    found = short.arg_true()
    return int(found[0]) + 1 if len(found) else None


def _header(landed: LandedFile, text: str) -> list[str]:
    first_line = text.split("\n", 1)[0]
    if "\r" in first_line.rstrip("\r"):
        raise FileProblem(
            landed.path,
            "its lines end in a carriage return alone (old Mac line endings)",
            "re-export the file with \\n or \\r\\n line endings",
        )
    try:
        return next(csv.reader(io.StringIO(first_line)), [])
    except csv.Error as exc:  # e.g. a field of more than 131,072 characters
        raise FileProblem(
            landed.path,
            f"the header line ({len(first_line):,} characters) is not a comma-separated "
            f"header: {exc}",
            "deliver the file with a header row of the contract's column names, and lines "
            "ending in a newline",
        ) from exc


def _read_csv(landed: LandedFile, content: bytes, contract: Contract) -> pl.DataFrame:
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
    header = _header(landed, text)
    duplicated = sorted(name for name, times in Counter(header).items() if times > 1)
    # A first line of repeated column-like names is a broken header; one with no contract
    # name and nothing readable repeated is a data row (the header is missing).
    readable_repeat = any(_COLUMN_NAME.fullmatch(name) for name in duplicated)
    if not set(header) & set(contract.column_names) and not readable_repeat:
        raise _no_header(landed, contract)
    if duplicated:
        raise FileProblem(
            landed.path,
            f"the header repeats column(s) {describe_names(duplicated)}",
            "export each column once",
        )
    try:
        frame = pl.read_csv(
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
    short = _first_short_line(text, len(header))
    if short:
        raise FileProblem(
            landed.path,
            f"line {short} has fewer fields than the header's {len(header)}",
            "export every row with all the header's columns (an empty value between commas)",
        )
    return frame


def _read_parquet(landed: LandedFile, content: bytes) -> pl.DataFrame:
    try:
        return pl.read_parquet(io.BytesIO(content))
    except Exception as exc:  # polars/arrow raise several types for corrupt bytes
        raise FileProblem(
            landed.path,
            "not a readable Parquet file (corrupt or truncated)",
            "export the file again and deliver it with a new .ok control file",
        ) from exc


# A header name is quoted in a message only when it reads like a column name: a file
# without its header row has a data row there, and that row may hold personal data.
_COLUMN_NAME = re.compile(r"[A-Za-z_][A-Za-z_ ]{0,62}[0-9]{0,2}")


def describe_names(names: list[str]) -> str:
    """Column names for a message: those that read like column names, the rest counted."""
    shown = [n for n in names if _COLUMN_NAME.fullmatch(n)]
    hidden = len(names) - len(shown)
    parts = [", ".join(shown)] if shown else []
    if hidden:
        parts.append(f"{hidden} more not shown (they do not read like column names)")
    return "; ".join(parts)


def _no_header(landed: LandedFile, contract: Contract) -> FileProblem:
    return FileProblem(
        landed.path,
        "has no header row: its first line holds none of the "
        f"{contract.source} contract's column names",
        f"deliver the file with its header row ({', '.join(contract.column_names[:3])}, …) "
        "as the first line",
    )


def _check_columns(landed: LandedFile, frame: pl.DataFrame, contract: Contract) -> list[str]:
    present = set(frame.columns)
    names = set(contract.column_names)
    missing = [c for c in contract.column_names if c not in present]
    extra = [c for c in frame.columns if c not in names]
    if missing and not present & names:
        raise _no_header(landed, contract)
    if missing:
        hint = f"; the file has unexpected column(s) {describe_names(extra)}" if extra else ""
        raise FileProblem(
            landed.path,
            f"missing column(s) {', '.join(missing)} required by the {contract.source} contract "
            f"{contract.path.name} v{contract.version}{hint}",
            "export the columns under the contract's names (a renamed column must be renamed "
            "back), or change the contract first if the source really changed",
        )
    if not extra:
        return []
    return [f"ignored column(s) not in the {contract.source} contract: {describe_names(extra)}"]


def _check_parquet_types(landed: LandedFile, frame: pl.DataFrame, contract: Contract) -> None:
    """Each contract column of a Parquet file must be readable as text (what a CSV column
    is): a nested value (a list, a struct) or bytes that are not UTF-8 fail the file."""
    for column in contract.columns:
        dtype = frame.schema[column.name]
        if dtype == column.polars_dtype or dtype == pl.String:
            continue
        if dtype.is_nested() or dtype == pl.Object:
            raise FileProblem(
                landed.path,
                f"column {column.name} holds {dtype.base_type()} values, not a single value "
                f"per row ({column.logical_type} in the contract)",
                "export the column as a plain value per row",
            )
        try:
            frame.select(pl.col(column.name).cast(pl.String))
        except Exception as exc:  # polars: invalid UTF-8 and the like
            raise FileProblem(
                landed.path,
                f"column {column.name} holds {dtype} values that are not text yecai can read "
                "(e.g. bytes that are not UTF-8)",
                f"export the column as {column.physical_type}",
            ) from exc


def read_frame(
    landed: LandedFile, content: bytes, control: Control, contract: Contract
) -> ReadFile:
    """Bytes → the contract's columns of every row, after the file-level checks."""
    check_control(landed, content, control)
    frame = (
        _read_csv(landed, content, contract)
        if landed.format == "csv"
        else _read_parquet(landed, content)
    )
    if frame.height != control.rows:
        raise FileProblem(
            landed.path,
            f"holds {frame.height} data rows but its control file says {control.rows}",
            "deliver the complete file again with a matching .ok control file",
        )
    warnings = _check_columns(landed, frame, contract)
    if landed.format == "parquet":
        _check_parquet_types(landed, frame, contract)
    rows = frame.select(contract.column_names).with_row_index(ROW_NUMBER, offset=1)
    rows = rows.with_columns(
        pl.col(ROW_NUMBER).cast(pl.Int64),
        pl.lit(landed.name).alias(SOURCE_FILE),
        pl.lit(landed.business_date).alias(BUSINESS_DATE),
    )
    return ReadFile(landed=landed, rows=rows, warnings=warnings)
