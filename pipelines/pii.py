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
import unicodedata
from functools import cache

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
TOKEN_SHAPES = "[0-9a-f]{64}|[CP][0-9A-F]{16}"  # tokens, customer keys, matched pairs
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


# Comparison features: what identity matching compares when two values are not equal
# (a typo, a name written another way), computed here, where raw values are touched, and
# kept once per token (pipelines/ingest/identity_features.py) instead of the value. Each
# is keyed, so nobody without the key can compute one from a guessed value:
# - a phone's ``variants``: BLAKE2b tokens (under a key derived from the tokenisation key)
#   of the number with one digit, or two adjacent ones, blanked: a wrong digit leaves one
#   in common, a swap a pair one;
# - an ID number's ``corrections``: when its check digit fails (a typo: GB 11643 catches
#   every wrong digit), the token prefixes of the valid numbers one wrong digit or one
#   swap away (a handful), to find the person's real number among the ID tokens; and its
#   ``birth_token``;
# - an e-mail's ``match_token``: the token of the address without the dots of its local
#   part (how mail providers read it);
# - a name's ``name_key`` (a keyed token of its pinyin, spaces and full-width forms gone:
#   王 伟, 王　伟, WANG WEI are one key) and ``bloom``, the set bits of a keyed Bloom filter
#   of those pinyin bigrams (a CLK), compared by Dice coefficient.
# What they still leak is structure: equal features mean equal values (as tokens do); a
# birth-date token is shared by everyone born that day; Bloom filters leak bigram
# frequencies: with many filters an attacker can align common bit positions with the
# frequencies of pinyin bigrams in names (the known attack on CLKs), which the key's
# secrecy is what stands against. The README's threat model says this for users.
FEATURE_HEX = 16  # a variant or a correction: the first 64 bits of its keyed hash
NAME_BLOOM_BITS = 1024
NAME_BLOOM_HASHES = 10
# Where the digits a typo can hit are: a phone's first three (1[3-9]x) are its network.
_PHONE_SPAN = range(3, 11)
_ID_BODY = 17  # an ID number's digits before its check character


@cache
def _feature_key(key: bytes) -> bytes:
    """The features' own key, derived from the tokenisation key (a feature is never a
    token of the same value)."""
    return hmac.new(key, b"yecai: comparison features", hashlib.sha256).digest()


def _keyed(purpose: str, texts: list[str], key: bytes, hex_chars: int = FEATURE_HEX) -> list[str]:
    # Keyed BLAKE2b is a MAC made for this, twice as fast as HMAC-SHA256 here.
    feature_key = _feature_key(key)
    return [
        hashlib.blake2b(
            f"{purpose}:{text}".encode(), key=feature_key, digest_size=hex_chars // 2
        ).hexdigest()
        for text in texts
    ]


def _blanked(value: str, span: range) -> list[str]:
    singles = [value[:i] + "_" + value[i + 1 :] for i in span]
    pairs = [value[:i] + "__" + value[i + 2 :] for i in span if i + 1 in span]
    return singles + pairs


def _id_check_char(body: str) -> str:
    return _ID_CHECK_CHARS[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]


def _id_corrections(value: str) -> list[str]:
    """The valid ID numbers one wrong character or one adjacent swap away from an
    invalid one."""
    body, check = value[:_ID_BODY], value[_ID_BODY:]
    if len(value) != 18 or not body.isdigit() or _id_check_char(body) == check:
        return []
    found = {body + _id_check_char(body)}  # the check character itself was mistyped
    for i in range(_ID_BODY):
        for digit in "0123456789":
            candidate = body[:i] + digit + body[i + 1 :]
            if digit != body[i] and _id_check_char(candidate) == check:
                found.add(candidate + check)
    for i in range(_ID_BODY - 1):
        swapped = body[:i] + body[i + 1] + body[i] + body[i + 2 :]
        if swapped != body and _id_check_char(swapped) == check:
            found.add(swapped + check)
    last = body[:-1] + check + body[-1]  # the last digit swapped with the check character
    if check.isdigit() and _id_check_char(last[:_ID_BODY]) == last[_ID_BODY]:
        found.add(last)
    return sorted(found)


def name_key(normalised: str) -> str:
    """A name as matching compares it: full-width forms and spaces gone, in lower-case
    pinyin (王 伟, 王　伟, WANG WEI and Wang Wei are all "wangwei")."""
    from pypinyin import lazy_pinyin

    plain = "".join(unicodedata.normalize("NFKC", normalised).split()).lower()
    return "".join(lazy_pinyin(plain))


def _bloom(text: str, key: bytes) -> list[int]:
    padded = f"_{text}_"
    bigrams = {padded[i : i + 2] for i in range(len(padded) - 1)}
    feature_key = _feature_key(key)
    positions = set()
    for bigram in bigrams:
        digest = hashlib.blake2b(f"name-bloom:{bigram}".encode(), key=feature_key).digest()
        positions.update(
            int.from_bytes(digest[2 * h : 2 * h + 2], "big") % NAME_BLOOM_BITS
            for h in range(NAME_BLOOM_HASHES)
        )
    return sorted(positions)


def features(kind: str, value: str, key: bytes) -> dict[str, object]:
    """The comparison features of one normalised value (see the comment above)."""
    if kind == "phone":
        return {"variants": _keyed("phone-variant", _blanked(value, _PHONE_SPAN), key)}
    if kind == "id_number":
        birth = value[6:14]
        return {
            "corrections": [
                token[:FEATURE_HEX] for token in _hmac_tokens(kind, _id_corrections(value), key)
            ],
            # As long as a token (64 hex): it is one, of the birth date.
            "birth_token": _keyed("id-birth", [birth], key, hex_chars=64)[0]
            if birth.isdigit()
            else None,
        }
    if kind == "email":
        local, at, domain = value.partition("@")
        return {"match_token": _hmac_tokens(kind, [local.replace(".", "") + at + domain], key)[0]}
    if kind == "name":
        pinyin = name_key(value)
        return {
            "name_key": _keyed("name-key", [pinyin], key, hex_chars=64)[0],
            "bloom": _bloom(pinyin, key),
        }
    raise ValueError(f"unknown PII kind {kind!r}")


FEATURE_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "phone": {"variants": pl.List(pl.String)},
    "id_number": {"corrections": pl.List(pl.String), "birth_token": pl.String},
    "email": {"match_token": pl.String},
    "name": {"name_key": pl.String, "bloom": pl.List(pl.Int16)},
}


def token_features(kind: str, values: list[str], tokens: list[str], key: bytes) -> pl.DataFrame:
    """One row per token: the token and its value's comparison features."""
    rows = [features(kind, value, key) for value in values]
    schema = FEATURE_SCHEMAS[kind]
    return pl.DataFrame(
        {"token": tokens, **{name: [row[name] for row in rows] for name in schema}},
        schema={"token": pl.String, **schema},
    )


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
