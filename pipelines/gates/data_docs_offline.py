"""GX Data Docs that work from file:// with no network.

GX's page templates load Bootstrap, jQuery, bootstrap-table, font-awesome and Vega from
public CDNs, and its logo from S3: offline the index is blank and validation pages show no
status. After each docs build the pages written are rewritten to load the same files from
the docs folder (static/vendor/, copied from data_docs_assets/, which
tools/vendor_data_docs_assets.py fills from the npm registry) and the logo GX ships in
static/images/. The addresses are GX's: a GX release that changes them is refused until
they are vendored again (``check_version``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from functools import cache
from importlib.metadata import version
from pathlib import Path

ASSETS = Path(__file__).with_name("data_docs_assets")
VENDOR = Path("static") / "vendor"
# The GX releases whose page templates name exactly the addresses in the manifest.
TESTED_GX = ("1.24.1",)
# GX's logo, from S3 (any query string), and the same picture GX ships with the site.
REMOTE_LOGO = re.compile(r"https://great-expectations-web-assets\.s3[^\"'\s]*?\.png[^\"'\s]*")
LOCAL_LOGO = Path("static") / "images" / "logo-long.png"
# Subresource integrity is for the CDN copy; on a file:// page `crossorigin` blocks the load.
INTEGRITY = re.compile(r'\s+(integrity="[^"]*"|crossorigin="[^"]*")')


def check_version() -> None:
    installed = version("great_expectations")
    if installed not in TESTED_GX:
        raise RuntimeError(
            f"great_expectations {installed} is not a release whose Data Docs addresses are "
            f"vendored (tested: {', '.join(TESTED_GX)}): run tools/vendor_data_docs_assets.py "
            "against its templates and add it to TESTED_GX in "
            "pipelines/gates/data_docs_offline.py"
        )


@cache
def cdn_files() -> dict[str, str]:
    """CDN address → the vendored file, relative to data_docs_assets/."""
    manifest = json.loads((ASSETS / "manifest.json").read_text(encoding="utf-8"))
    return {entry["cdn"]: local for local, entry in manifest.items() if entry["cdn"]}


def _relative(page: Path, target: Path) -> str:
    return Path(os.path.relpath(target, page.parent)).as_posix()


def make_offline(docs_dir: Path, since: float) -> int:
    """Copy the vendored files into ``docs_dir`` and rewrite the pages written at or after
    ``since`` (a time.time()) to load them. Returns the pages rewritten."""
    vendor = docs_dir / VENDOR
    manifest = (ASSETS / "manifest.json").read_text(encoding="utf-8")
    copied = vendor / "manifest.json"
    if not copied.exists() or copied.read_text(encoding="utf-8") != manifest:
        shutil.copytree(ASSETS, vendor, dirs_exist_ok=True)
    rewritten = 0
    for page in docs_dir.rglob("*.html"):
        # A file's time stamp can trail the clock by a kernel tick: a second's margin.
        if page.stat().st_mtime < since - 1:
            continue
        html = page.read_text(encoding="utf-8")
        offline = html
        for url, local in cdn_files().items():
            offline = offline.replace(url, _relative(page, vendor / local))
        offline = REMOTE_LOGO.sub(_relative(page, docs_dir / LOCAL_LOGO), offline)
        offline = INTEGRITY.sub("", offline)
        if offline != html:
            page.write_text(offline, encoding="utf-8")
            rewritten += 1
    return rewritten
