"""The reviewers' decisions file is checked before a run applies it: a bad row names the
file, the row and what to write, and quotes no personal data."""

import pytest

from pipelines.identity_decisions import DecisionsInvalid, check_decisions, decisions_path

HEADER = "pair_id,decision,reviewer,note\n"


def _write(tmp_path, text: str):
    path = decisions_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_is_no_decision(tmp_path):
    assert check_decisions(decisions_path(tmp_path)) == 0


def test_good_rows_are_counted_whatever_their_case_and_spaces(tmp_path):
    path = _write(
        tmp_path,
        HEADER + "P3F9A0C2E41B7D58A,same,wang.li,card photo\n p0b7c5d2e9a31f64c , Different ,,\n",
    )
    assert check_decisions(path) == 2


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("P3F9A0C2E41B7D58A,yes,,\n", r"row 1 \(line 2\): decision 'yes' is neither same nor"),
        ("13812345678,same,,\n", r"row 1 \(line 2\): pair_id '\[withheld\]' is not a pair id"),
        (
            "P3F9A0C2E41B7D58A,same,,\nP3F9A0C2E41B7D58A,different,,\n",
            r"row 2 \(line 3\): pair P3F9A0C2E41B7D58A is decided again \(row 1\)",
        ),
    ],
)
def test_a_bad_row_is_named_with_the_fix(tmp_path, rows, message):
    path = _write(tmp_path, HEADER + rows)
    with pytest.raises(DecisionsInvalid, match=message) as raised:
        check_decisions(path)
    assert str(path) in str(raised.value)
    assert "13812345678" not in str(raised.value)


def test_a_file_without_the_columns_is_refused(tmp_path):
    path = _write(tmp_path, "pair,verdict\nP3F9A0C2E41B7D58A,same\n")
    with pytest.raises(DecisionsInvalid, match="no pair_id, decision column"):
        check_decisions(path)
