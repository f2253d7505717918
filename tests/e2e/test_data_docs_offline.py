"""The gates' Data Docs open from file:// with the network off: the index lists the runs, a
failed validation shows which expectation failed, with its status icon."""

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest

from pipelines.gates import data_docs_offline
from pipelines.gates.validate import validate_all
from tests.e2e.browser import ARTIFACTS, chromium
from tests.unit.test_gx_duckdb import MARTS_GATE, _warehouse

pytestmark = pytest.mark.browser

# Every request off the machine fails: no DNS, and a proxy that nothing listens on.
OFFLINE = [
    "--proxy-server=http://127.0.0.1:9",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--virtual-time-budget=8000",  # let scripts and fonts finish before the dump
]
# Appended to a copy of a page (same folder, same relative addresses): what loaded.
PROBE = """
<pre id="probe"></pre>
<script>
document.fonts.ready.then(() => {
  document.getElementById("probe").textContent = JSON.stringify({
    jquery: typeof window.jQuery,
    bootstrap_table: typeof (window.jQuery && window.jQuery.fn.bootstrapTable),
    vega_embed: typeof window.vegaEmbed,
    icon_fonts: [...document.fonts].filter(
      (f) => f.family.includes("Font Awesome") && f.status === "loaded").length,
  });
});
</script>
"""


@pytest.fixture(scope="module")
def docs(tmp_path_factory) -> Path:
    """A site with one good run and one where gross_margin ≠ revenue − cogs on a row."""
    root = tmp_path_factory.mktemp("gates")
    for run, bad_row in (
        ("run-good", ""),
        ("run-bad", ", ('O4', 1, 10.00, 0, 0, 0, 10.00, 4.00, 7.00)"),
    ):
        database = root / f"{run}.duckdb"
        _warehouse(database, bad_row)
        validate_all(
            database,
            [MARTS_GATE],
            results_dir=root / "results",
            docs_dir=root / "docs",
            run_name=run,
        )
    return root / "docs"


def offline(tmp_path: Path, page: Path, shot: str) -> tuple[str, dict]:
    """The page's DOM after its scripts ran offline, what loaded, and a kept screenshot."""
    probe = page.with_name(f"probe-{page.name}")
    probe.write_text(
        page.read_text(encoding="utf-8").replace("</body>", f"{PROBE}</body>"), encoding="utf-8"
    )
    try:
        dom = chromium(tmp_path, *OFFLINE, "--dump-dom", probe.as_uri()).stdout
        ARTIFACTS.mkdir(exist_ok=True)
        chromium(
            tmp_path,
            *OFFLINE,
            "--window-size=1200,1000",
            f"--screenshot={ARTIFACTS / shot}",
            page.as_uri(),
        )
    finally:
        probe.unlink()
    loaded = json.loads(
        re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S).group(1).replace("&quot;", '"')
    )
    return dom, loaded


def test_no_page_loads_anything_from_the_network(docs):
    remote = [
        (page.name, address)
        for page in docs.rglob("*.html")
        for address in re.findall(
            r'<(?:script|link|img)[^>]*(?:src|href)="(https?://[^"]+)"', page.read_text()
        )
    ]
    assert remote == []


def test_the_index_lists_the_runs_offline(docs, tmp_path):
    dom, loaded = offline(tmp_path, docs / "index.html", "gate-docs-index.png")
    assert loaded["jquery"] == "function" and loaded["bootstrap_table"] == "function"
    # bootstrap-table built the rows from the page's data: its summary line is there.
    assert "Showing 1 to 2 of 2 rows" in dom
    assert "run-good" in dom and "run-bad" in dom


def test_a_failed_validation_shows_the_failed_expectation_offline(docs, tmp_path):
    (page,) = (docs / "validations").rglob("run-bad/*/*.html")
    dom, loaded = offline(tmp_path, page, "gate-docs-failed-validation.png")
    assert loaded["icon_fonts"] >= 1 and loaded["vega_embed"] == "function"
    failed_row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*fa-times(?:(?!</tr>).)*</tr>", dom, re.S)
    assert failed_row and "gross_margin = recognized_revenue - cogs" in failed_row.group(0)


def test_vendored_files_are_the_packages_files(docs):
    """What manifest.json says was vendored is what the site serves, byte for byte."""
    manifest = json.loads((data_docs_offline.ASSETS / "manifest.json").read_text())
    vendor = docs / data_docs_offline.VENDOR
    changed = [
        local
        for local, entry in manifest.items()
        if hashlib.sha256((vendor / local).read_bytes()).hexdigest() != entry["sha256"]
    ]
    assert changed == []


def test_an_untested_gx_release_is_refused(monkeypatch):
    monkeypatch.setattr(data_docs_offline, "version", lambda _: "1.99.0")
    with pytest.raises(RuntimeError, match=r"tools/vendor_data_docs_assets\.py"):
        data_docs_offline.check_version()


def test_rewriting_twice_changes_nothing(docs, tmp_path):
    copy = tmp_path / "docs"
    shutil.copytree(docs, copy)
    assert data_docs_offline.make_offline(copy, since=0) == 0
