"""Vendor the scripts, styles and fonts GX Data Docs load from CDNs, from the npm registry.

Run by hand when Great Expectations is upgraded (`python tools/vendor_data_docs_assets.py`):
it packs each npm package at the version the CDN address names, copies the files into
pipelines/gates/data_docs_assets/ and writes manifest.json (CDN address → vendored file,
package, sha256). pipelines/gates/data_docs_offline.py serves them from the docs folder.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import tarfile
import tempfile
from pathlib import Path

ASSETS = Path(__file__).resolve().parents[1] / "pipelines" / "gates" / "data_docs_assets"

# CDN address in GX's templates → (npm package@version, file in the package). The versions
# are the CDNs' (jsdelivr's `npm/vega@5` serves the newest 5.x: pinned here).
FILES = {
    "https://code.jquery.com/jquery-3.7.1.min.js": ("jquery@3.7.1", "dist/jquery.min.js"),
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": (
        "bootstrap@4.3.1",
        "dist/css/bootstrap.min.css",
    ),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": (
        "bootstrap@4.3.1",
        "dist/js/bootstrap.min.js",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": (
        "popper.js@1.12.9",
        "dist/umd/popper.min.js",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": (  # noqa: E501
        "bootstrap-datepicker@1.9.0",
        "dist/css/bootstrap-datepicker.min.css",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": (  # noqa: E501
        "bootstrap-datepicker@1.9.0",
        "dist/js/bootstrap-datepicker.min.js",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "@fortawesome/fontawesome-free@6.6.0",
        "css/all.min.css",
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": (
        "bootstrap-table@1.19.1",
        "dist/bootstrap-table.min.css",
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": (
        "bootstrap-table@1.19.1",
        "dist/bootstrap-table.min.js",
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js": (  # noqa: E501
        "bootstrap-table@1.19.1",
        "dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css": (  # noqa: E501
        "bootstrap-table@1.19.0",
        "dist/extensions/filter-control/bootstrap-table-filter-control.css",
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css": (  # noqa: E501
        "bootstrap-table@1.19.0",
        "dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
    ),
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css": (  # noqa: E501
        "@forevolve/bootstrap-dark@1.1.0",
        "dist/css/bootstrap-prefers-dark.css",
    ),
    "https://cdn.jsdelivr.net/npm/vega@5": ("vega@5.33.1", "build/vega.min.js"),
    "https://cdn.jsdelivr.net/npm/vega-lite@5": ("vega-lite@5.23.0", "build/vega-lite.min.js"),
    "https://cdn.jsdelivr.net/npm/vega-embed@6": ("vega-embed@6.29.0", "build/vega-embed.min.js"),
}
# Files a vendored file loads by a relative address (font-awesome's ../webfonts/).
COMPANIONS = {"@fortawesome/fontawesome-free@6.6.0": ("webfonts/", ".woff2")}


def _local_name(package: str) -> str:
    return package.lstrip("@").replace("/", "-")


def _unpack(package: str, work: Path) -> Path:
    subprocess.run(
        ["npm", "pack", package, "--pack-destination", str(work), "--silent"],
        check=True,
        capture_output=True,
    )
    (tarball,) = work.glob("*.tgz")
    target = work / _local_name(package)
    with tarfile.open(tarball) as archive:
        archive.extractall(target, filter="data")
    tarball.unlink()
    return target / "package"


def main() -> None:
    manifest: dict[str, dict] = {}
    packages = sorted({package for package, _ in FILES.values()})
    with tempfile.TemporaryDirectory() as tmp:
        unpacked = {package: _unpack(package, Path(tmp)) for package in packages}
        copies = [(url, package, path) for url, (package, path) in FILES.items()]
        for package, (folder, suffix) in COMPANIONS.items():
            copies += [
                (None, package, str(f.relative_to(unpacked[package])))
                for f in sorted((unpacked[package] / folder).glob(f"*{suffix}"))
            ]
        for url, package, path in copies:
            data = (unpacked[package] / path).read_bytes()
            local = f"{_local_name(package)}/{path}"
            (ASSETS / local).parent.mkdir(parents=True, exist_ok=True)
            (ASSETS / local).write_bytes(data)
            manifest[local] = {
                "cdn": url,
                "package": package,
                "sha256": hashlib.sha256(data).hexdigest(),
            }
    (ASSETS / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"{len(manifest)} files from {len(packages)} packages in {ASSETS}")


if __name__ == "__main__":
    main()
