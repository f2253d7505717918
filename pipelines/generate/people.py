"""A population of fictional people with realistic Chinese identifiers.

Every identifier is unique to its person by construction (an affine bijection of the
person's index), so the truth of who is who is exact: two people never share a phone,
e-mail, ID number or member number. How each record *shows* a person's identifiers is
decided in :func:`shown_identities` and :func:`written_identities`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

SURNAMES = [
    ("王", "wang", 7.1),
    ("李", "li", 7.0),
    ("张", "zhang", 6.7),
    ("刘", "liu", 5.4),
    ("陈", "chen", 4.5),
    ("杨", "yang", 3.1),
    ("黄", "huang", 2.2),
    ("赵", "zhao", 2.0),
    ("吴", "wu", 1.8),
    ("周", "zhou", 1.7),
    ("徐", "xu", 1.3),
    ("孙", "sun", 1.3),
    ("马", "ma", 1.2),
    ("朱", "zhu", 1.2),
    ("胡", "hu", 1.1),
    ("郭", "guo", 1.1),
    ("何", "he", 0.9),
    ("高", "gao", 0.9),
    ("林", "lin", 0.9),
    ("罗", "luo", 0.9),
    ("郑", "zheng", 0.8),
    ("梁", "liang", 0.8),
    ("谢", "xie", 0.6),
    ("宋", "song", 0.5),
    ("唐", "tang", 0.5),
    ("许", "xu", 0.5),
    ("韩", "han", 0.5),
    ("冯", "feng", 0.5),
    ("邓", "deng", 0.5),
    ("曹", "cao", 0.5),
    ("彭", "peng", 0.4),
    ("曾", "zeng", 0.4),
    ("肖", "xiao", 0.4),
    ("田", "tian", 0.4),
    ("董", "dong", 0.4),
    ("袁", "yuan", 0.4),
    ("潘", "pan", 0.3),
    ("于", "yu", 0.3),
    ("蒋", "jiang", 0.3),
    ("蔡", "cai", 0.3),
    ("欧阳", "ouyang", 0.05),
    ("司马", "sima", 0.02),
]
GIVEN_CHARS = list(
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉宇浩然子涵"
    "梓萱欣怡雨轩思远嘉怡一诺俊熙博文晨曦佳琪若汐沐阳可馨梦瑶诗琪泽宇皓轩晓东海燕春梅建国"
)
EMAIL_DOMAINS = [
    "qq.com",
    "163.com",
    "126.com",
    "sina.com",
    "outlook.com",
    "foxmail.com",
    "gmail.com",
    "139.com",
]
PRIMARY_PREFIXES = [
    130,
    131,
    132,
    133,
    135,
    136,
    137,
    138,
    139,
    150,
    151,
    152,
    155,
    156,
    157,
    158,
    159,
    170,
    176,
    177,
    178,
    180,
    181,
    182,
    183,
    185,
    186,
    187,
    188,
    189,
]
# Second phones use prefixes no primary phone uses, so they never collide with one.
SECONDARY_PREFIXES = [166, 191, 193, 195, 198, 199]
REGION_CODES = [
    "110101",
    "110105",
    "110108",
    "120101",
    "210102",
    "230102",
    "310104",
    "310105",
    "310115",
    "320102",
    "320106",
    "320505",
    "330102",
    "330106",
    "330108",
    "340102",
    "350102",
    "360102",
    "370102",
    "410105",
    "420106",
    "430104",
    "440104",
    "440106",
    "440305",
    "450102",
    "500103",
    "510104",
    "510107",
    "530102",
    "610113",
]
ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
ID_CHECK = np.array(list("10X98765432"))
BRANDS = ["AUR", "MER", "VEL", "KWH", "KDK"]
# Share of people who shop each business line; people overlap (cross-brand customers).
LINE_SHARE = {"KIDS": 0.55, "HEALTH": 0.45, "AUTO": 0.08}
MEMBER_SHARE = {"AUR": 0.6, "MER": 0.6, "VEL": 0.6, "KWH": 0.55, "KDK": 0.75}


def affine(index: np.ndarray, multiplier: int, offset: int, modulus: int) -> np.ndarray:
    """A bijection of [0, modulus) that looks random: unique outputs for unique inputs."""
    return (index.astype(np.int64) * multiplier + offset) % modulus


@dataclass(frozen=True)
class Population:
    people: pl.DataFrame  # one row per person: identifiers, affinities, activity weight

    @property
    def size(self) -> int:
        return self.people.height


def _id_numbers(rng: np.random.Generator, index: np.ndarray) -> np.ndarray:
    birth_days = 16_000  # 1960-01-01 .. about 2003
    unique = affine(index, 7_919, 104_729, 1_000 * birth_days)
    region = np.array(REGION_CODES)[rng.integers(0, len(REGION_CODES), index.size)]
    birth = (np.datetime64("1960-01-01") + (unique // 1_000).astype("timedelta64[D]")).astype(str)
    birth = np.char.replace(birth, "-", "")
    sequence = np.char.zfill((unique % 1_000).astype(str), 3)
    body = np.char.add(np.char.add(region, birth), sequence)
    digits = np.frombuffer("".join(body).encode(), dtype=np.uint8).reshape(-1, 17) - ord("0")
    check = ID_CHECK[(digits * ID_WEIGHTS).sum(axis=1) % 11]
    return np.char.add(body, check)


def make_population(rng: np.random.Generator, size: int) -> Population:
    index = np.arange(size)
    surname_idx = rng.choice(
        len(SURNAMES), size, p=np.array([s[2] for s in SURNAMES]) / sum(s[2] for s in SURNAMES)
    )
    given_len = rng.choice([1, 2], size, p=[0.3, 0.7])
    chars = np.array(GIVEN_CHARS)
    given = np.where(
        given_len == 1,
        chars[rng.integers(0, len(chars), size)],
        np.char.add(
            chars[rng.integers(0, len(chars), size)], chars[rng.integers(0, len(chars), size)]
        ),
    )
    surnames = np.array([s[0] for s in SURNAMES])[surname_idx]
    pinyin = np.array([s[1] for s in SURNAMES])[surname_idx]
    phone1 = np.array(PRIMARY_PREFIXES)[
        rng.integers(0, len(PRIMARY_PREFIXES), size)
    ] * 10**8 + affine(index, 48_271, 31_415_926, 10**8)
    has_phone2 = rng.random(size) < 0.08
    phone2 = np.array(SECONDARY_PREFIXES)[
        rng.integers(0, len(SECONDARY_PREFIXES), size)
    ] * 10**8 + affine(index, 69_621, 87_654_321, 10**8)
    has_email = rng.random(size) < 0.7
    email_local = np.char.add(pinyin, affine(index, 40_503, 9_973, 10**7).astype(str))
    email = np.char.add(
        np.char.add(email_local, "@"),
        np.array(EMAIL_DOMAINS)[rng.integers(0, len(EMAIL_DOMAINS), size)],
    )
    lines = {line: rng.random(size) < share for line, share in LINE_SHARE.items()}
    nobody = ~(lines["KIDS"] | lines["HEALTH"] | lines["AUTO"])
    lines["KIDS"] = lines["KIDS"] | nobody
    members = {brand: rng.random(size) < share for brand, share in MEMBER_SHARE.items()}
    frame = pl.DataFrame(
        {
            "person_id": index,
            "name": np.char.add(surnames, given),
            "surname": surnames,
            "surname_pinyin": pinyin,
            "phone1": phone1.astype(str),
            "phone2": phone2.astype(str),
            "email": email,
            "id_number": _id_numbers(rng, index),
            # Pareto activity: a few people buy often, most rarely.
            "activity": rng.pareto(1.6, size) + 0.2,
            "buys_kids": lines["KIDS"],
            "buys_health": lines["HEALTH"],
            "buys_auto": lines["AUTO"],
            **{
                f"member_{brand}": np.char.add(
                    f"{brand}M",
                    np.char.zfill(
                        affine(
                            index, 2_654_435_761 % 10**9 + 2 * i, 7_777_777 * (i + 3), 10**9
                        ).astype(str),
                        9,
                    ),
                )
                for i, brand in enumerate(BRANDS)
            },
        }
    ).with_columns(
        pl.when(pl.lit(has_phone2)).then(pl.col("phone2")).alias("phone2"),
        pl.when(pl.lit(has_email)).then(pl.col("email")).alias("email"),
        *(
            pl.when(pl.lit(members[brand])).then(pl.col(f"member_{brand}")).alias(f"member_{brand}")
            for brand in BRANDS
        ),
    )
    return Population(frame)


def choose_people(
    rng: np.random.Generator, population: Population, line_flag: str, count: int
) -> np.ndarray:
    """Who makes each of ``count`` records of a business line, weighted by activity."""
    candidates = population.people.filter(pl.col(line_flag))
    weights = candidates["activity"].to_numpy()
    picks = rng.choice(candidates.height, count, p=weights / weights.sum())
    return candidates["person_id"].to_numpy()[picks]


def _phone_variant(rng: np.random.Generator, phone: pl.Expr, n: int) -> pl.Expr:
    """The same mobile number written the many ways people and systems write it."""
    variant = pl.Series(rng.choice(6, n, p=[0.55, 0.12, 0.1, 0.1, 0.08, 0.05]))
    spaced = phone.str.slice(0, 3) + " " + phone.str.slice(3, 4) + " " + phone.str.slice(7, 4)
    dashed = phone.str.slice(0, 3) + "-" + phone.str.slice(3, 4) + "-" + phone.str.slice(7, 4)
    return (
        pl.when(pl.lit(variant) == 1)
        .then("+86 " + spaced)
        .when(pl.lit(variant) == 2)
        .then("+86" + phone)
        .when(pl.lit(variant) == 3)
        .then("0086" + phone)
        .when(pl.lit(variant) == 4)
        .then(dashed)
        .when(pl.lit(variant) == 5)
        .then("0086-" + dashed)
        .otherwise(phone)
    )


def shown_identities(
    rng: np.random.Generator, records: pl.DataFrame, population: Population
) -> pl.DataFrame:
    """Which of a person's identifiers each record shows (phone, email, name, id_number,
    member_id; null: not shown), before they are written (:func:`written_identities`).

    ``records`` has record_id, person_id (null: anonymous), brand_code, ts, kind
    ("sale" | "consultation") and ``auto`` (vehicle purchases register an ID number). Rules
    keep every person's records connected through shared identifiers, as in life: a
    person's first record carries phone and ID number, and so does their first sale, with
    the e-mail too (consultations have no e-mail column); their first record with a brand
    carries the phone and the brand member number; later records show any of them.
    Some people are therefore linked only through an e-mail, an ID number, a second phone
    or a member number.
    """
    n = records.height
    people = population.people
    joined = records.join(people, on="person_id", how="left", maintain_order="left")
    first_overall = joined.select(
        pl.col("person_id").is_not_null() & pl.col("person_id").is_first_distinct()
    ).to_series()
    first_sale = joined.select(
        pl.col("person_id").is_not_null()
        & (pl.col("kind") == "sale")
        & pl.struct("person_id", "kind").is_first_distinct()
    ).to_series()
    first_in_brand = joined.select(
        pl.col("person_id").is_not_null() & pl.struct("person_id", "brand_code").is_first_distinct()
    ).to_series()
    member_id = pl.coalesce(
        *(
            pl.when(pl.col("brand_code") == brand).then(pl.col(f"member_{brand}"))
            for brand in BRANDS
        )
    )
    draw = rng.random(n)
    extra = rng.random((4, n))
    is_consultation = pl.col("kind") == "consultation"
    has_member = member_id.is_not_null()
    has_email = pl.col("email").is_not_null()
    has_phone2 = pl.col("phone2").is_not_null()
    pattern = (
        pl.when(has_phone2 & (pl.lit(extra[3]) < 0.5))
        .then(pl.lit("PHONE2"))
        .when(is_consultation)
        .then(pl.lit("PHONE1"))
        .when(has_email & (pl.lit(draw) < 0.06))
        .then(pl.lit("EMAIL"))
        .when((pl.lit(draw) >= 0.06) & (pl.lit(draw) < 0.11))
        .then(pl.lit("ID"))
        .when(has_member & (pl.lit(draw) >= 0.11) & (pl.lit(draw) < 0.19))
        .then(pl.lit("MEMBER"))
        .otherwise(pl.lit("PHONE1"))
    )
    shown = joined.with_columns(
        _pattern=pattern,
        _first=pl.lit(first_overall) | pl.lit(first_sale),
        _first_brand=pl.lit(first_in_brand),
        _member=member_id,
    ).with_columns(
        show_phone1=(pl.col("_pattern") == "PHONE1") | pl.col("_first") | pl.col("_first_brand"),
        show_phone2=(pl.col("_pattern") == "PHONE2") & ~pl.col("_first"),
        show_email=has_email
        & (
            pl.col("_first")
            | (pl.col("_pattern") == "EMAIL")
            | (pl.col("_pattern") == "PHONE2")
            | ((pl.col("_pattern") == "PHONE1") & (pl.lit(extra[0]) < 0.3))
        ),
        show_id=pl.col("_first")
        | (pl.col("_pattern") == "ID")
        | is_consultation
        | pl.col("auto")
        | ((pl.col("_pattern") == "PHONE2") & ~has_email)
        | ((pl.col("_pattern") == "PHONE1") & (pl.lit(extra[1]) < 0.15)),
        show_member=has_member
        & (pl.col("_first_brand") | (pl.col("_pattern") == "MEMBER") | (pl.lit(extra[2]) < 0.7)),
        show_name=pl.lit(rng.random(n) < 0.85),
    )
    first_phone = pl.col("phone1")
    if "phone_changed_at" in people.columns:  # identity noise: some changed phones
        first_phone = (
            pl.when(pl.col("ts") >= pl.col("phone_changed_at"))
            .then(pl.col("phone_new"))
            .otherwise(first_phone)
        )
    phone = pl.when(pl.col("show_phone2")).then(pl.col("phone2")).when(pl.col("show_phone1"))
    return shown.select(
        "record_id",
        "surname",
        "surname_pinyin",
        pl.when(pl.col("show_phone1") | pl.col("show_phone2"))
        .then(phone.then(first_phone))
        .alias("phone"),
        pl.when(pl.col("show_email")).then(pl.col("email")).alias("email"),
        pl.when(pl.col("show_name")).then(pl.col("name")).alias("name"),
        pl.when(pl.col("show_id")).then(pl.col("id_number")).alias("id_number"),
        pl.when(pl.col("show_member")).then(pl.col("_member")).alias("member_id"),
    )


def written_identities(rng: np.random.Generator, shown: pl.DataFrame) -> pl.DataFrame:
    """The identifiers each record shows (:func:`shown_identities`) written the ways
    people and systems write them: phone formats, e-mail case and stray spaces, ID number
    case."""
    n = shown.height
    email_case = pl.lit(pl.Series(rng.random(n) < 0.15))
    email_space = pl.lit(pl.Series(rng.random(n) < 0.05))
    id_lower = pl.lit(pl.Series(rng.random(n) < 0.3))
    email = pl.when(email_case).then(pl.col("email").str.to_uppercase()).otherwise(pl.col("email"))
    email = pl.when(email_space).then(" " + email + " ").otherwise(email)
    id_number = (
        pl.when(id_lower)
        .then(pl.col("id_number").str.to_lowercase())
        .otherwise(pl.col("id_number"))
    )
    return shown.select(
        "record_id",
        pl.when(pl.col("phone").is_not_null())
        .then(_phone_variant(rng, pl.col("phone"), n))
        .alias("phone"),
        email.alias("email"),
        "name",
        id_number.alias("id_number"),
        "member_id",
    )
