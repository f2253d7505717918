"""After runs with every kind of defect (row defects at 5 %, a GBK file, a truncated file,
a renamed column, a duplicate delivery), no raw personal value is anywhere a run writes:
a table, the lake, a log, Dagster's event log, a report, Data Docs or a message."""

from datetime import date

import pytest

from pipelines.generate import GenerateRequest, generate
from pipelines.settings import Settings
from tests.e2e.test_cli import files_text, yecai
from tests.pii_scan import database_findings, lake_findings, raw_pii_values, text_findings

pytestmark = pytest.mark.reliability

EVERY_DEFECT = GenerateRequest(
    start=date(2024, 5, 6), days=3, scale=0.03, seed=5, anomalies=0.05, file_defects=True
)


def test_no_raw_personal_data_anywhere_after_runs_with_every_defect(tmp_path, pipeline_home):
    settings = Settings(home=tmp_path / "home")
    generate(settings.landing, settings.truth, EVERY_DEFECT)
    last = date(2024, 5, 8)
    failed = yecai(settings.home, "run", "--start", "2024-05-06", "--end", str(last))
    assert failed.returncode == 2  # the broken files: bad input
    for home, messages in ((settings, failed.stdout + failed.stderr), (pipeline_home, "")):
        values = raw_pii_values(home.landing)
        assert len(values) > 100
        assert database_findings(home.build_db, values) == []
        if home.marts_db.exists():
            assert database_findings(home.marts_db, values) == []
        assert lake_findings(home.lake, values) == []
        assert text_findings(messages, values) == []
        # Data Docs' static/ (fonts and scripts GX ships, not data) holds an author's e-mail.
        for folder in ("logs", "dagster", "reports", "gx"):
            if (home.home / folder).exists():
                text = files_text(home.home / folder, skip="static")
                assert text_findings(text, values) == [], (home.home, folder)
