"""A snapshot's manifest decides what `yecai restore` writes: only the home's warehouse and
lake files, never a path outside the home."""

import json

import pytest

from pipelines.backup import MANIFEST, BackupError, restore


@pytest.mark.parametrize(
    "name",
    [
        "../escaped.txt",
        "lake/../../escaped.txt",
        "{outside}/escaped.txt",
        "notes/readme.txt",
        "warehouse/other.duckdb",
    ],
)
def test_a_manifest_naming_a_file_outside_the_snapshot_is_refused(home, tmp_path, name):
    snapshot = tmp_path / "snapshot"
    (snapshot / "lake").mkdir(parents=True)
    name = name.format(outside=tmp_path)
    entry = {"sha256": "0" * 64, "bytes": 0}
    (snapshot / MANIFEST).write_text(json.dumps({"files": {name: entry}}))
    with pytest.raises(BackupError, match="refusing to restore"):
        restore(home, snapshot)
    assert not (tmp_path / "escaped.txt").exists()
    assert not (home.home / "backups").exists()  # nothing moved aside: nothing changed


def test_a_manifest_that_is_not_one_is_named(home, tmp_path):
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    (snapshot / MANIFEST).write_text("[1, 2]")
    with pytest.raises(BackupError, match="is not a yecai manifest"):
        restore(home, snapshot)
