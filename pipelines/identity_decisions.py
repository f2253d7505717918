"""Reviewers' decisions on pairs identity matching could not decide.

``identity_review_queue`` lists each undecided pair by its ``pair_id``. A reviewer writes
the verdict into ``<home>/identity/decisions.csv``, one row per pair::

    pair_id,decision,reviewer,note
    P3F9A0C2E41B7D58A,same,wang.li,same member card photo
    P0B7C5D2E9A31F64C,different,wang.li,mother and son

``same`` links the two customers (a merge, logged as any merge is), ``different`` keeps
them apart for good: matching never links that pair again. Every run applies the whole
file, so a decision stays in force as long as its row is there; change your mind by
changing the row. Only ``pair_id`` and ``decision`` enter the warehouse: the other
columns are the reviewers' own record.

The file is checked before dbt builds anything: a bad row fails the run with the file,
the row and what to write instead, and nothing is applied until it is fixed.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from pipelines import pii

DECISIONS_FILE = Path("identity") / "decisions.csv"
DECISIONS = ("same", "different")
PAIR_ID = re.compile(r"P[0-9A-F]{16}")
REQUIRED = ("pair_id", "decision")


class DecisionsInvalid(ValueError):
    pass


def decisions_path(home: Path) -> Path:
    return home / DECISIONS_FILE


def check_decisions(path: Path) -> int:
    """How many decisions the file holds; DecisionsInvalid names the first bad row."""
    if not path.exists():
        return 0
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except (pl.exceptions.ComputeError, UnicodeDecodeError) as error:
        raise DecisionsInvalid(
            f"{path}: not a readable CSV file ({pii.redact(str(error))[:200]}); save it as "
            "UTF-8 CSV with the header pair_id,decision (more columns are allowed)"
        ) from None
    missing = [column for column in REQUIRED if column not in frame.columns]
    if missing:
        raise DecisionsInvalid(
            f"{path}: the header has no {', '.join(missing)} column; the first line must "
            "name the columns, with at least pair_id and decision"
        )
    seen: dict[str, int] = {}
    for index, (pair_id, decision) in enumerate(
        zip(frame["pair_id"], frame["decision"], strict=True)
    ):
        row = f"{path} row {index + 1} (line {index + 2})"
        pair = (pair_id or "").strip().upper()
        if not PAIR_ID.fullmatch(pair):
            raise DecisionsInvalid(
                f"{row}: pair_id {pii.redact(pair_id or '')!r} is not a pair id; copy it from "
                "identity_review_queue (P and 16 hexadecimal digits)"
            )
        if (decision or "").strip().lower() not in DECISIONS:
            raise DecisionsInvalid(
                f"{row}: decision {pii.redact(decision or '')!r} is neither same nor "
                "different; write same (one person) or different (two people)"
            )
        if pair in seen:
            raise DecisionsInvalid(
                f"{row}: pair {pair} is decided again (row {seen[pair]}); keep one row per "
                "pair, and change that row to change the decision"
            )
        seen[pair] = index + 1
    return frame.height
