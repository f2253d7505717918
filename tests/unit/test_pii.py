"""Personal data: normalised so the same identifier matches, tokenised, masked."""

import hashlib
import hmac

import polars as pl
import pytest

from pipelines import pii

KEY = b"unit-test-key-0123456789"


def _normalised(kind: str, values: list[str | None]) -> list[str | None]:
    return pl.select(pii.normalise(kind, pl.Series(values, dtype=pl.String))).to_series().to_list()


def test_phone_written_many_ways_is_one_phone():
    written = [
        "13812345678",
        "+86 138 1234 5678",
        "0086-138-1234-5678",
        "+8613812345678",
        "138-1234-5678",
        " 0086 13812345678 ",
    ]
    assert set(_normalised("phone", written)) == {"13812345678"}


def test_email_and_id_number_normalisation():
    assert _normalised("email", ["  Li.Lei@Example.COM "]) == ["li.lei@example.com"]
    assert _normalised("id_number", ["11010519491231002x"]) == ["11010519491231002X"]
    assert _normalised("name", ["", None]) == [None, None]


def test_id_number_check_digit():
    valid = (
        pl.select(
            pii.is_valid(
                "id_number", pl.Series(["11010519491231002X", "110105194912310021", "123"])
            )
        )
        .to_series()
        .to_list()
    )
    assert valid == [True, False, False]


def test_tokens_are_hmac_sha256_of_kind_and_value():
    tokens = pii.tokenise("phone", pl.Series(["13812345678", None, "13812345678"]), KEY)
    expected = hmac.new(KEY, b"phone:13812345678", hashlib.sha256).hexdigest()
    assert tokens.to_list() == [expected, None, expected]
    assert pii.token_for("phone", "+86 138-1234-5678", KEY) == expected
    # The same digits as another kind give another token.
    assert pii.token_for("id_number", "13812345678", KEY) != expected
    assert pii.token_for("phone", "13812345678", b"another-key-0123456") != expected


def test_masks_show_only_a_safe_part():
    values = pl.DataFrame(
        {
            "phone": ["13812345678"],
            "email": ["a.b@x.com"],
            "name": ["欧阳娜娜"],
            "id_number": ["11010519491231002X"],
        }
    )
    masked = values.select(pii.mask(kind, pl.col(kind)) for kind in values.columns).row(0)
    assert masked == ("138****5678", "a***@x.com", "欧***", "1101**********002X")


def test_no_key_outside_demo_mode_is_refused(monkeypatch):
    monkeypatch.delenv("YECAI_PII_KEY", raising=False)
    with pytest.raises(pii.PiiKeyMissing, match="YECAI_PII_KEY is not set"):
        pii.resolve_key(demo=False)


def test_demo_mode_says_so_loudly(monkeypatch, capsys):
    monkeypatch.delenv("YECAI_PII_KEY", raising=False)
    assert pii.resolve_key(demo=True) == pii.DEMO_KEY
    assert "DEMO MODE" in capsys.readouterr().err


def test_short_key_is_refused(monkeypatch):
    monkeypatch.setenv("YECAI_PII_KEY", "short")
    with pytest.raises(pii.PiiKeyMissing, match="shorter"):
        pii.resolve_key(demo=False)
