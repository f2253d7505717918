"""Debian's chromium, headless: the browser the tests drive (a test tool's own browser
download would fail on these machines)."""

import shutil
import subprocess
from pathlib import Path

from PIL import Image

from tests.conftest import repo_path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = repo_path("test-artifacts")


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def is_not_blank(screenshot: Path) -> bool:
    """Many colours and a good share of the page not white: something was drawn."""
    image = Image.open(screenshot).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20) or []
    non_white = sum(count for count, rgb in colours if rgb != (255, 255, 255))
    return len(colours) > 50 and non_white > 0.05 * image.width * image.height
