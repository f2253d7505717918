"""Normalise, tokenise and mask personal data — the one place raw PII is touched.

Each personal column (phone, e-mail, name, ID number) is normalised so the same person's
identifier matches however it was typed, then replaced by

- a token: HMAC-SHA256 keyed by ``$YECAI_PII_KEY`` over ``<kind>:<normalised value>``
  (hex). The kind prefix keeps a phone and an ID number with the same digits apart. Equal
  values give equal tokens, so identity resolution joins on tokens and never sees raw data;
  without the key nobody can recompute a token from a guessed phone number.
- a masked display form for people: ``138****5678``, ``张*``, ``a***@x.com``,
  ``1101**********123X``.

Running without a key is allowed only in demo mode, with a fixed, public demo key, and it
says so loudly: tokens made with it are not protection.

Personal data can also turn up where it does not belong (a phone typed into a free-text
description, an ID number in a reference column, a data row where a header should be).
:data:`SHAPES` says what personal data looks like, once, for the ingestion checks, the
messages people read and the PII gate: :func:`redact` takes it out of any text yecai
writes, :func:`has_shape` finds it in a column.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import sys

import polars as pl

from pipelines.settings import PII_KEY_ENV, SettingsError

DEMO_KEY = b"yecai-demo-key--public--not-a-secret"
DEMO_WARNING = (
    "DEMO MODE: $YECAI_PII_KEY is not set, so personal data is tokenised with the public demo "
    "key. Tokens made with it protect nothing. Set YECAI_PII_KEY to a secret of 32+ "
    "random bytes before loading real data."
)
# What personal data looks like once separators (spaces, dashes) are taken out: a phone
# written "+86 138-1234-5678" is still a phone. Hex tokens and customer keys are hashes
# whose digits can form such runs: they are taken out first.
SEPARATORS = r"[\s-]"
TOKEN_SHAPES = "[0-9a-f]{64}|C[0-9A-F]{16}"
SHAPES = {
    "phone": r"(^|[^0-9])(0086|86)?1[3-9][0-9]{9}([^0-9]|$)",
    "e-mail": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z.]{2,}",
    "ID number": r"(^|[^0-9])[0-9]{17}[0-9Xx]([^0-9]|$)",
}
# The same shapes with separators allowed between the digits, to cut them out of text.
_SEP = r"[\s-]*"
_REDACTABLE = (  # longest first: an ID number holds phone-shaped runs
    rf"(^|[^0-9])([0-9](?:{_SEP}[0-9]){{16}}{_SEP}[0-9Xx])([^0-9]|$)",
    r"()([A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z.]{2,})()",
    rf"(^|[^0-9])((?:\+?(?:0086|86){_SEP})?1{_SEP}[3-9](?:{_SEP}[0-9]){{9}})([^0-9]|$)",
)
WITHHELD = "[withheld]"
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_MIN_KEY_BYTES = 16


class PiiKeyMissing(SettingsError):
    pass


class PiiKeyMismatch(SettingsError):
    """The key is not the one the home's data was tokenised with."""


FINGERPRINT_LABEL = b"yecai: fingerprint of the tokenisation key"


def key_fingerprint(key: bytes) -> str:
    """A keyed fingerprint of the key itself: equal for equal keys, and nothing a token
    can be computed from (HMAC of a fixed label, not of any personal value)."""
    return hmac.new(key, FINGERPRINT_LABEL, hashlib.sha256).hexdigest()


def key_mismatch(home: str) -> PiiKeyMismatch:
    return PiiKeyMismatch(
        f"${PII_KEY_ENV} is not the key the data in {home} was tokenised with: the same "
        "person would get new tokens and become a second customer. Use the home's key, or "
        'change keys the way the README\'s runbook says ("Rotate the PII key": rebuild the '
        "history under the new key in a new home)."
    )


def resolve_key(demo: bool, announce: bool = True) -> bytes:
    """The tokenisation key: ``$YECAI_PII_KEY``, or the demo key in demo mode only (said
    on stderr unless ``announce`` is false)."""
    key = os.environ.get(PII_KEY_ENV, "")
    if key:
        if len(key.encode()) < _MIN_KEY_BYTES:
            raise PiiKeyMissing(
                f"${PII_KEY_ENV} is shorter than {_MIN_KEY_BYTES} bytes; use a long random "
                "secret, e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`"
            )
        return key.encode()
    if not demo:
        raise PiiKeyMissing(
            f"${PII_KEY_ENV} is not set. yecai tokenises personal data with it and will not "
            f"load extracts without it. Set it (e.g. `export {PII_KEY_ENV}=$(python -c "
            "'import secrets; print(secrets.token_hex(32))')`) or run `yecai demo` / "
            "`yecai run --demo` on sample data."
        )
    if announce:
        print(f"\n*** {DEMO_WARNING} ***\n", file=sys.stderr)
    return DEMO_KEY


def normalise(kind: str, value: pl.Expr) -> pl.Expr:
    """The canonical form identity matching uses; empty strings become null."""
    text = value.cast(pl.String).str.strip_chars()
    if kind == "phone":
        # 11 digits after a 0086 or 86 country code lose the code; one regex each way.
        digits = text.str.replace_all(r"[^0-9]", "")
        normalised = digits.str.replace(r"^(?:0086|86)([0-9]{11})$", "${1}")
    elif kind == "email":
        normalised = text.str.to_lowercase()
    elif kind == "id_number":
        normalised = text.str.replace_all(r"[\s-]", "").str.to_uppercase()
    elif kind == "name":
        normalised = text.str.replace_all(r"\s+", " ")
    else:
        raise ValueError(f"unknown PII kind {kind!r}")
    return pl.when(normalised.str.len_chars() > 0).then(normalised)


# Kinds with a rule beyond their shape. A value that breaks it is a typo of a real
# person's identifier (the row is kept): the lake records the verdict beside the token
# (``<column>_valid``) for identity matching to weigh.
CHECKED_KINDS = frozenset({"id_number"})


def is_valid(kind: str, normalised: pl.Expr) -> pl.Expr:
    """Rules of the kind beyond a pattern: an ID number's check digit (GB 11643)."""
    if kind not in CHECKED_KINDS:
        return pl.lit(True)
    weighted = pl.sum_horizontal(
        normalised.str.slice(i, 1).cast(pl.Int64, strict=False) * w
        for i, w in enumerate(_ID_WEIGHTS)
    )
    expected = pl.lit(_ID_CHECK_CHARS).str.slice((weighted % 11).cast(pl.Int64), 1)
    return (normalised.str.len_chars() == 18) & (normalised.str.slice(17, 1) == expected)


def mask(kind: str, normalised: pl.Expr) -> pl.Expr:
    """A display form that is safe to show to analysts."""
    length = normalised.str.len_chars()
    stars = pl.lit("*").repeat_by(length).list.join("")
    if kind == "phone":
        shown = normalised.str.slice(0, 3) + "****" + normalised.str.slice(-4)
        return pl.when(length == 11).then(shown).otherwise(stars)
    if kind == "email":
        local = normalised.str.extract(r"^([^@]+)@", 1)
        domain = normalised.str.extract(r"@(.+)$", 1)
        shown = local.str.slice(0, 1) + "***@" + domain
        return pl.when(local.is_not_null() & domain.is_not_null()).then(shown).otherwise(stars)
    if kind == "id_number":
        shown = normalised.str.slice(0, 4) + "**********" + normalised.str.slice(-4)
        return pl.when(length == 18).then(shown).otherwise(stars)
    if kind == "name":
        rest = pl.lit("*").repeat_by((length - 1).clip(lower_bound=1)).list.join("")
        return normalised.str.slice(0, 1) + rest
    raise ValueError(f"unknown PII kind {kind!r}")


def _hmac_tokens(kind: str, values: list[str], key: bytes) -> list[str]:
    inner = hmac.new(key, digestmod=hashlib.sha256)
    prefix = f"{kind}:".encode()
    tokens = []
    for value in values:
        mac = inner.copy()
        mac.update(prefix + value.encode())
        tokens.append(mac.hexdigest())
    return tokens


def tokenise(kind: str, normalised: pl.Series, key: bytes) -> pl.Series:
    """HMAC-SHA256 tokens, computed once per distinct value (hashlib is C; the loop is not)."""
    return protect(kind, normalised, key)["token"]


def protect(kind: str, normalised: pl.Series, key: bytes) -> pl.DataFrame:
    """Token and masked form of each normalised value, aligned with it (nulls stay null).

    Both are computed once per distinct value and joined back: a day's extract repeats
    the same people many times."""
    distinct = normalised.cast(pl.String).drop_nulls().unique()
    mapping = pl.DataFrame(
        {
            "value": distinct,
            "token": pl.Series(_hmac_tokens(kind, distinct.to_list(), key), dtype=pl.String),
        },
        schema={"value": pl.String, "token": pl.String},
    ).with_columns(mask(kind, pl.col("value")).alias("masked"))
    frame = pl.DataFrame({"value": normalised.cast(pl.String)})
    return frame.join(mapping, on="value", how="left", maintain_order="left").select(
        "token", "masked"
    )


def token_for(kind: str, raw_value: str, key: bytes) -> str | None:
    """The token of one raw value, as ingestion would store it (for tests and lookups)."""
    normalised = pl.select(normalise(kind, pl.lit(raw_value, dtype=pl.String))).to_series()
    return tokenise(kind, normalised, key)[0]


def redact(text: str) -> str:
    """Text with every run shaped like personal data replaced by [withheld]: what a message,
    a reason or a log line may quote of a delivered value."""
    for pattern in _REDACTABLE:
        while True:
            replaced = re.sub(pattern, rf"\g<1>{WITHHELD}\g<3>", text)
            if replaced == text:
                break
            text = replaced
    return text


def redact_expr(text: pl.Expr) -> pl.Expr:
    """:func:`redact` for a column of text (adjacent shapes take a second pass)."""
    for pattern in _REDACTABLE:
        for _ in range(2):
            text = text.str.replace_all(pattern, f"${{1}}{WITHHELD}${{3}}")
    return text


_ANY_SHAPE = "|".join(f"(?:{pattern})" for pattern in _REDACTABLE)


def has_shape(text: pl.Expr) -> pl.Expr:
    """Whether a text holds something shaped like a phone, an e-mail or an ID number (one
    pass of one pattern: cheap enough for every row of every text column)."""
    return text.str.contains(_ANY_SHAPE)


def shape_names(text: str) -> list[str]:
    """The kinds of personal data a text looks like it holds (for a reason or a test)."""
    bare = re.sub(SEPARATORS, "", re.sub(TOKEN_SHAPES, "", text))
    return [kind for kind, shape in SHAPES.items() if re.search(shape, bare)]
