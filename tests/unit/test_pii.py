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


def _shared(kind: str, a: str, b: str, feature: str = "variants", key: bytes = KEY) -> int:
    return len(set(pii.features(kind, a, key)[feature]) & set(pii.features(kind, b, KEY)[feature]))


def _dice(a: str, b: str, key: bytes = KEY) -> float:
    first = set(pii.features("name", a, KEY)["bloom"])
    second = set(pii.features("name", b, key)["bloom"])
    return 2 * len(first & second) / (len(first) + len(second))


def _name_key(name: str) -> str:
    return pii.features("name", name, KEY)["name_key"]


def test_a_mistyped_phone_shares_a_variant_and_another_phone_none():
    phone = "13812345678"
    assert _shared("phone", phone, phone) == len(pii.features("phone", phone, KEY)["variants"])
    assert _shared("phone", phone, "13812345679") >= 1  # a wrong digit
    assert _shared("phone", phone, "13812346578") >= 1  # two adjacent digits swapped
    assert _shared("phone", phone, "13898765432") == 0  # somebody else
    assert _shared("phone", phone, "13812345678", key=b"another-key-0123456789") == 0


def test_a_mistyped_id_number_lists_the_real_one_among_its_corrections():
    number = "11010519491231002X"
    real = pii.token_for("id_number", number, KEY)[: pii.FEATURE_HEX]
    assert pii.features("id_number", number, KEY)["corrections"] == []  # it is valid
    for typo in ("11010519491231003X", "11010519941231002X", "110105194912310025"):
        corrections = pii.features("id_number", typo, KEY)["corrections"]
        assert real in corrections, typo
        assert 1 <= len(corrections) <= 40
    assert real not in pii.features("id_number", "31010519770101123X", KEY)["corrections"]
    birth = pii.features("id_number", number, KEY)["birth_token"]
    assert birth == pii.features("id_number", "32050219491231551X", KEY)["birth_token"]
    assert birth != pii.features("id_number", "11010519491230002X", KEY)["birth_token"]


def test_an_email_with_dots_in_its_local_part_has_the_plain_address_token():
    plain = pii.token_for("email", "lilei@example.com", KEY)
    assert pii.features("email", "li.lei@example.com", KEY)["match_token"] == plain
    assert pii.features("email", "lilei@example.com", KEY)["match_token"] == plain
    assert pii.features("email", "li.lei@example.cn", KEY)["match_token"] != plain


def test_a_name_compares_the_same_however_it_is_written_and_near_when_mistyped():
    """Spaces, full-width forms and pinyin leave the same filter; a dropped or swapped
    character a close one; another person's name a distant one."""
    for written in (
        "王 伟芳",
        "王\u3000伟芳",
        "Wang Weifang",
        "WANG WEIFANG",
        "ｗａｎｇ ｗｅｉｆａｎｇ",
    ):
        assert _dice("王伟芳", written) == 1.0, written
        assert _name_key(written) == _name_key("王伟芳"), written
    assert _dice("王伟芳", "王芳") > 0.6
    assert _dice("王伟芳", "王芳伟") > 0.6
    assert _dice("王伟芳", "陈子涵") < 0.3
    assert _dice("王伟芳", "王伟芳", key=b"another-key-0123456789") < 0.3


def test_features_are_keyed_tokens_of_a_fixed_length():
    phone = pii.features("phone", "13812345678", KEY)
    assert phone == pii.features("phone", "13812345678", KEY)
    assert len(phone["variants"]) == 8 + 7  # one digit blanked, or two adjacent ones
    assert all(len(v) == pii.FEATURE_HEX and int(v, 16) >= 0 for v in phone["variants"])
    assert len(pii.features("id_number", "11010519491231002X", KEY)["birth_token"]) == 64
    assert len(_name_key("王伟芳")) == 64


def test_token_features_are_one_row_per_token_in_the_stored_schema():
    frame = pii.token_features("name", ["王伟芳", "陈子涵"], ["t1", "t2"], KEY)
    assert frame["token"].to_list() == ["t1", "t2"]
    assert frame.schema == {"token": pl.String, **pii.FEATURE_SCHEMAS["name"]}
