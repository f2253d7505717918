"""The published marts open in the DuckDB analysts' tools embed: DuckDB 1.x, as the oldest
1.x Python package (an old driver) and the newest CLI on PyPI, installed apart from
yecai's own DuckDB 2 by `make analyst-duckdb` (tools/analyst-duckdb/uv.lock)."""

import json
import subprocess
from pathlib import Path

import duckdb
import pytest

from pipelines.publish.marts_file import ANALYST_STORAGE_VERSION, storage_version
from pipelines.settings import Settings

pytestmark = pytest.mark.slow

ANALYST_DUCKDB = Path(__file__).resolve().parents[2] / ".analyst-duckdb" / "bin"

# Every table, every row read to the end (a column the reader cannot decode fails here).
READ_EVERY_MART = """
import duckdb, json, sys
con = duckdb.connect(sys.argv[1], read_only=True)
tables = [t for (t,) in con.execute("select table_name from duckdb_tables()").fetchall()]
print(json.dumps({
    "version": duckdb.__version__,
    "rows": {t: len(con.execute(f'select * from "{t}"').fetchall()) for t in tables},
}))
"""


def analyst_tool(name: str) -> Path:
    tool = ANALYST_DUCKDB / name
    if not tool.exists():
        pytest.fail(f"{tool} is missing: run `make analyst-duckdb` (make test does)")
    return tool


def published_rows(settings: Settings) -> dict[str, int]:
    with duckdb.connect(str(settings.marts_db), read_only=True) as con:
        tables = [t for (t,) in con.execute("select table_name from duckdb_tables()").fetchall()]
        return {t: con.execute(f'select count(*) from "{t}"').fetchone()[0] for t in tables}


def test_the_published_file_is_in_the_format_duckdb_1_reads(pipeline_home):
    assert storage_version(pipeline_home.marts_db) == f"{ANALYST_STORAGE_VERSION}+"


def test_a_duckdb_1_driver_reads_every_mart(pipeline_home):
    result = subprocess.run(
        [analyst_tool("python"), "-c", READ_EVERY_MART, pipeline_home.marts_db],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    read = json.loads(result.stdout)
    assert read["version"].startswith("1.")
    assert read["rows"] == published_rows(pipeline_home)


def test_the_duckdb_1_cli_reads_every_mart(pipeline_home):
    cli = analyst_tool("duckdb")
    version = subprocess.run([cli, "-version"], capture_output=True, text=True, timeout=60)
    assert version.stdout.startswith("v1."), version.stdout
    expected = published_rows(pipeline_home)
    counts = " union all ".join(
        f"select '{t}' as mart, count(*) as row_count from \"{t}\"" for t in sorted(expected)
    )
    result = subprocess.run(
        [cli, "-readonly", "-json", str(pipeline_home.marts_db), "-c", counts],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert {r["mart"]: r["row_count"] for r in json.loads(result.stdout)} == expected


def test_every_mart_and_column_carries_its_description_where_tools_show_it(pipeline_home):
    """DuckDB comments (duckdb_tables().comment, duckdb_columns().comment), read by the
    DuckDB 1.x CLI: what DBeaver, DataGrip and the CLI's .schema show an analyst."""
    query = (
        "select 'table' as kind, table_name as name, comment from duckdb_tables() "
        "union all select 'column', table_name || '.' || column_name, comment "
        "from duckdb_columns() where not internal"
    )
    result = subprocess.run(
        [analyst_tool("duckdb"), "-readonly", "-json", str(pipeline_home.marts_db), "-c", query],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    comments = {(r["kind"], r["name"]): r["comment"] for r in json.loads(result.stdout)}
    assert [name for name, comment in comments.items() if not comment] == []
    assert "确认收入" in comments["column", "customer_profile.recognized_revenue"]
    assert "统一客户画像" in comments["table", "customer_profile"]
