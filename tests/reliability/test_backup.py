"""`yecai backup` and `yecai restore`: a snapshot brings a wrecked warehouse back, the gates
pass on it, and a snapshot changed since it was taken is refused with the home untouched."""

import shutil

import pytest

from pipelines.backup import MANIFEST
from pipelines.identity_decisions import decisions_path
from pipelines.settings import Settings
from tests.e2e.test_cli import yecai
from tests.reliability.test_kill_and_rerun import audit_and_lake, published_rows

pytestmark = pytest.mark.reliability


def test_a_snapshot_restores_a_wrecked_warehouse_and_the_gates_pass(pipeline_home, tmp_path):
    settings = Settings(home=tmp_path / "home")
    shutil.copytree(pipeline_home.home, settings.home)
    published, audited = published_rows(settings.marts_db), audit_and_lake(settings)
    decisions = decisions_path(settings.home)
    decisions.parent.mkdir(exist_ok=True)
    reviewed = "pair_id,decision,reviewer,note\nP3F9A0C2E41B7D58A,different,wang.li,twins\n"
    decisions.write_text(reviewed, encoding="utf-8")

    made = yecai(settings.home, "backup", "--to", str(tmp_path / "snapshot"))
    assert made.returncode == 0, made.stderr
    snapshot = tmp_path / "snapshot"
    assert (snapshot / MANIFEST).is_file() and (snapshot / "warehouse" / "build.duckdb").is_file()

    # The disaster: the build database gone, the published file overwritten, a partition lost.
    settings.build_db.unlink()
    settings.marts_db.write_bytes(b"not a database")
    shutil.rmtree(next(settings.raw_lake.glob("sales/business_date=*")))
    later = reviewed + "P0B7C5D2E9A31F64C,same,wang.li,made after the snapshot\n"
    decisions.write_text(later, encoding="utf-8")

    restored = yecai(settings.home, "restore", str(snapshot))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "every error gate passed" in restored.stdout
    assert published_rows(settings.marts_db) == published
    assert audit_and_lake(settings) == audited
    [replaced] = (settings.home / "backups").glob("replaced-*")
    assert (replaced / "warehouse" / "marts.duckdb").read_bytes() == b"not a database"
    # The decisions the restored warehouse applied are back; later ones are kept aside.
    assert decisions.read_text(encoding="utf-8") == reviewed
    assert (replaced / "identity" / "decisions.csv").read_text(encoding="utf-8") == later

    # A snapshot changed after it was taken is refused before anything is touched.
    tampered = next((snapshot / "lake").rglob("*.parquet"))
    tampered.write_bytes(tampered.read_bytes()[:-1] + b"\0")
    settings.marts_db.unlink()
    refused = yecai(settings.home, "restore", str(snapshot))
    assert refused.returncode == 2
    assert "changed since the backup" in refused.stderr and tampered.name in refused.stderr
    assert not settings.marts_db.exists()  # nothing was restored over the home
