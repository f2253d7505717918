"""Dirty identifiers, as real extracts carry them (`yecai generate --identity-noise RATE`).

The clean population gives every person identifiers of their own, written cleanly. At
RATE, noise makes them what source systems really hold:

- **people who change phones**: from a day in the window on, a person's records show a
  new number (the old one is never shown again);
- **family members sharing a phone** (the hard negative case): a child in the
  mother-and-baby brand, a spouse on a car purchase, is a person of their own (name, ID
  number, member numbers) whose records show a family member's phone; merging them pools
  their points;
- **typos in what a record shows**: a phone with one wrong digit or two adjacent digits
  swapped; an ID number with a wrong or transposed digit (its check digit then fails: ISO
  7064 MOD 11-2 catches every single one); a name with a space, a full-width space, a
  dropped or swapped character, or written in pinyin; an e-mail with a dot in its local
  part.

Who is who stays exact in truth/persons.parquet; truth/identity_noise.parquet names each
change and the record it is in, and truth/shared_phones.parquet each family pair. Noise
draws from its own random stream: without it (RATE 0) the extracts are unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
import polars as pl

from pipelines.generate.people import Population, affine
from pipelines.settings import BUSINESS_TIMEZONE

# Phones people change to: prefixes neither first nor second phones use, so a new number
# is nobody else's.
NEW_PHONE_PREFIXES = [171, 173, 175, 196]
IDEOGRAPHIC_SPACE = "\u3000"
GIVEN_PINYIN = {
    "伟": "wei", "芳": "fang", "娜": "na", "秀": "xiu", "英": "ying", "敏": "min",
    "静": "jing", "丽": "li", "强": "qiang", "磊": "lei", "军": "jun", "洋": "yang",
    "勇": "yong", "艳": "yan", "杰": "jie", "娟": "juan", "涛": "tao", "明": "ming",
    "超": "chao", "兰": "lan", "霞": "xia", "平": "ping", "刚": "gang", "桂": "gui",
    "华": "hua", "玉": "yu", "萍": "ping", "红": "hong", "娥": "e", "玲": "ling",
    "芬": "fen", "燕": "yan", "彬": "bin", "鹏": "peng", "辉": "hui", "宇": "yu",
    "浩": "hao", "然": "ran", "子": "zi", "涵": "han", "梓": "zi", "萱": "xuan",
    "欣": "xin", "怡": "yi", "雨": "yu", "轩": "xuan", "思": "si", "远": "yuan",
    "嘉": "jia", "一": "yi", "诺": "nuo", "俊": "jun", "熙": "xi", "博": "bo",
    "文": "wen", "晨": "chen", "曦": "xi", "佳": "jia", "琪": "qi", "若": "ruo",
    "汐": "xi", "沐": "mu", "阳": "yang", "可": "ke", "馨": "xin", "梦": "meng",
    "瑶": "yao", "诗": "shi", "泽": "ze", "皓": "hao", "晓": "xiao", "东": "dong",
    "海": "hai", "春": "chun", "梅": "mei", "建": "jian", "国": "guo",
}  # fmt: skip


TYPOS_SCHEMA = {"record_id": pl.String, "identifier": pl.String, "change": pl.String}
NO_TYPOS = pl.DataFrame(schema=TYPOS_SCHEMA)


@dataclass(frozen=True)
class IdentityNoise:
    rate: float
    seed: int

    def rng(self, stream: int) -> np.random.Generator:
        """A stream of its own per use (the clean generator's draws never move)."""
        return np.random.default_rng([self.seed, 0x1D, stream])


def with_life_changes(
    noise: IdentityNoise, population: Population, first: date, last: date
) -> tuple[Population, pl.DataFrame]:
    """The population with phone changes and family phones; and the family pairs
    (person_id, shares_phone_of, relation) for truth."""
    rng = noise.rng(0)
    people = population.people
    size = people.height
    index = np.arange(size)
    span = max((last - first).days, 1)
    changes = rng.random(size) < noise.rate  # RATE of people change phone
    changed_on = [
        datetime.combine(first + timedelta(days=int(d)), time())
        for d in rng.integers(0, span, size)
    ]
    new_phone = np.array(NEW_PHONE_PREFIXES)[
        rng.integers(0, len(NEW_PHONE_PREFIXES), size)
    ] * 10**8 + affine(index, 16_807, 27_182_818, 10**8)
    people = people.with_columns(
        phone_changed_at=pl.when(pl.lit(changes)).then(
            pl.Series(changed_on, dtype=pl.Datetime("us")).dt.replace_time_zone(BUSINESS_TIMEZONE)
        ),
        phone_new=pl.Series(new_phone.astype(str)),
    )
    families = []
    for flag, relation in (("buys_kids", "child"), ("buys_auto", "spouse")):
        members = people.filter(pl.col(flag))["person_id"].to_numpy()
        if members.size < 2:
            continue
        joins = members[rng.random(members.size) < noise.rate]  # RATE of a line's people
        holders = rng.choice(members, joins.size)
        keep = holders != joins
        families.append(
            pl.DataFrame(
                {
                    "person_id": joins[keep],
                    "shares_phone_of": holders[keep],
                    "relation": [relation] * int(keep.sum()),
                }
            )
        )
    family = (
        pl.concat(families)
        .unique("person_id", keep="first", maintain_order=True)
        # A holder is nobody's dependant: chains would make phone sharing transitive.
        .filter(~pl.col("person_id").is_in(pl.col("shares_phone_of").implode()))
    )
    holder_phone = people.select(
        pl.col("person_id").alias("shares_phone_of"), pl.col("phone1").alias("_holder_phone")
    )
    sharing = family.join(holder_phone, on="shares_phone_of", how="left")
    people = (
        people.join(sharing, on="person_id", how="left", maintain_order="left")
        .with_columns(
            phone1=pl.coalesce("_holder_phone", "phone1"),
            # A dependant's own records carry no e-mail, nor a phone change of their own.
            email=pl.when(pl.col("shares_phone_of").is_null()).then(pl.col("email")),
            phone_changed_at=pl.when(pl.col("shares_phone_of").is_null()).then(
                pl.col("phone_changed_at")
            ),
        )
        .drop("_holder_phone", "relation")
    )
    return Population(people), family.sort("person_id")


def _typo_digits(rng: np.random.Generator, value: str, first: int, last: int) -> tuple[str, str]:
    """One wrong digit, or two adjacent digits swapped, in positions first..last."""
    digits = list(value)
    if rng.random() < 0.5:
        at = int(rng.integers(first, last + 1))
        digits[at] = str((int(digits[at]) + int(rng.integers(1, 10))) % 10)
        return "".join(digits), "wrong_digit"
    at = int(rng.integers(first, last))
    digits[at], digits[at + 1] = digits[at + 1], digits[at]
    return "".join(digits), "transposed_digits"


def _name_variant(
    rng: np.random.Generator, name: str, surname: str, pinyin: str
) -> tuple[str, str]:
    given = name[len(surname) :]
    kinds = ["space", "ideographic_space", "pinyin"]
    if len(given) >= 2:
        kinds += ["dropped_character", "swapped_characters"]
    kind = kinds[int(rng.integers(0, len(kinds)))]
    if kind == "space":
        return f"{surname} {given}", kind
    if kind == "ideographic_space":
        return f"{surname}{IDEOGRAPHIC_SPACE}{given}", kind
    if kind == "dropped_character":
        at = int(rng.integers(0, len(given)))
        return surname + given[:at] + given[at + 1 :], kind
    if kind == "swapped_characters":
        return surname + given[::-1], kind
    given_pinyin = "".join(GIVEN_PINYIN.get(char, "") for char in given)
    written = f"{pinyin.capitalize()} {given_pinyin.capitalize()}"
    return (written.upper() if rng.random() < 0.5 else written), kind


def _email_variant(rng: np.random.Generator, email: str) -> tuple[str, str]:
    local, domain = email.split("@", 1)
    at = int(rng.integers(1, len(local)))
    return f"{local[:at]}.{local[at:]}@{domain}", "dot_in_local_part"


def add_typos(
    noise: IdentityNoise, shown: pl.DataFrame, stream: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``shown`` (record_id, phone, id_number, name, email: what each record shows, before
    it is formatted; surname, surname_pinyin) with typos at the noise rate; and what
    changed, for truth."""
    rng = noise.rng(stream)
    columns = {name: shown[name].to_list() for name in ("phone", "id_number", "name", "email")}
    surnames = shown["surname"].to_list()
    pinyin = shown["surname_pinyin"].to_list()
    record_ids = shown["record_id"].to_list()
    changed: list[tuple[str, str, str]] = []
    for kind, values in columns.items():
        hits = np.flatnonzero(rng.random(len(values)) < noise.rate)
        for i in hits:
            value = values[i]
            if value is None:
                continue
            if kind == "phone":  # keep 1[3-9]: still a mobile number's shape
                values[i], how = _typo_digits(rng, value, 3, 10)
            elif kind == "id_number":
                values[i], how = _typo_digits(rng, value, 0, 16)
            elif kind == "name":
                values[i], how = _name_variant(rng, value, surnames[i], pinyin[i])
            else:
                values[i], how = _email_variant(rng, value)
            if values[i] != value:
                changed.append((record_ids[i], kind, how))
    noised = shown.with_columns(
        pl.Series(kind, values, dtype=pl.String) for kind, values in columns.items()
    )
    log = pl.DataFrame(changed, schema=TYPOS_SCHEMA, orient="row")
    return noised, log
