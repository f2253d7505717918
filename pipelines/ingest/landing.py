"""What source systems delivered: data files, their ``.ok`` control files, and file problems."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipelines.pii import redact

DATA_SUFFIXES = (".csv", ".parquet")
CONTROL_SUFFIX = ".ok"


class FileProblem(Exception):
    """A delivered file cannot be read at all. Says which file, what is wrong and the fix.

    Messages never quote row contents: a row may hold personal data. Whatever a message
    says passes through :func:`pipelines.pii.redact` as well.
    """

    def __init__(self, path: Path, problem: str, fix: str):
        self.path = path
        self.problem = redact(problem)
        self.fix = redact(fix)
        problem, fix = self.problem, self.fix
        super().__init__(f"{path}: {problem}. Fix: {fix}")


@dataclass(frozen=True)
class Control:
    rows: int
    sha256: str


@dataclass(frozen=True)
class LandedFile:
    source: str
    business_date: date
    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def control_path(self) -> Path:
        return self.path.with_name(self.path.name + CONTROL_SUFFIX)

    @property
    def format(self) -> str:
        return self.path.suffix.lstrip(".").lower()


def partition_folder(landing: Path, source: str, day: date) -> Path:
    return landing / source / day.isoformat()


@dataclass
class LandingScan:
    """A business date's folder: files ready to read (their control file has arrived),
    files still waiting for one, and entries that are not a delivery yecai can read."""

    ready: list[LandedFile] = field(default_factory=list)
    waiting: list[Path] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)


def _link_problem(path: Path) -> FileProblem:
    return FileProblem(
        path,
        "is a symbolic link: yecai reads only files delivered into landing/ itself (a link "
        "could point anywhere on this machine)",
        "deliver the file itself, not a link to it",
    )


def scan_folder(landing: Path, source: str, day: date) -> LandingScan:
    """What a source delivered for a date. A source writes the control file last, so a
    data file without one may still be copying; a control file without its data file, a
    link, or a data or control "file" that is a folder or a pipe is a delivery error."""
    folder = partition_folder(landing, source, day)
    scan = LandingScan()
    if folder.is_symlink():
        scan.problems.append(_link_problem(folder))
        return scan
    if not folder.is_dir():
        return scan
    entries = sorted(folder.iterdir())
    for path in entries:
        data = path.with_suffix("")
        if path.suffix.lower() == CONTROL_SUFFIX and not data.exists() and not data.is_symlink():
            scan.problems.append(
                FileProblem(
                    path,
                    f"is a control file without its data file {data.name}",
                    "deliver the data file before its control file, or remove the stray "
                    "control file",
                )
            )
        if path.suffix.lower() not in DATA_SUFFIXES:
            continue
        landed = LandedFile(source, day, path)
        control = landed.control_path
        if not control.exists() and not control.is_symlink():
            if path.is_file() and not path.is_symlink():
                scan.waiting.append(path)
            continue
        problem = _entry_problem(path) or _entry_problem(control)
        if problem:
            scan.problems.append(problem)
        else:
            scan.ready.append(landed)
    return scan


def _entry_problem(path: Path) -> FileProblem | None:
    if path.is_symlink():
        return _link_problem(path)
    if not path.is_file():
        return FileProblem(
            path,
            "is not a regular file (a folder, a pipe or a device)",
            "deliver a regular file under this name",
        )
    return None


def read_control(landed: LandedFile) -> Control:
    wrong = FileProblem(
        landed.control_path,
        'control file is not JSON of the form {"rows": N, "sha256": "<64 hex digits>"} with '
        "N a whole number",
        "have the source system write the control file again",
    )
    try:
        payload = json.loads(landed.control_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise wrong from exc
    rows = payload.get("rows") if isinstance(payload, dict) else None
    sha = payload.get("sha256") if isinstance(payload, dict) else None
    if (
        type(rows) is not int  # not a bool, a float or a string
        or rows < 0
        or not isinstance(sha, str)
        or not re.fullmatch(r"[0-9a-fA-F]{64}", sha)
    ):
        raise wrong
    return Control(rows=rows, sha256=sha.lower())


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def write_control(path: Path, content: bytes, rows: int) -> None:
    """Write ``<file>.ok`` beside a data file, as a source system does (last)."""
    control = {"rows": rows, "sha256": sha256_hex(content)}
    path.with_name(path.name + CONTROL_SUFFIX).write_text(json.dumps(control), encoding="utf-8")


def deliver(path: Path, content: bytes, rows: int) -> None:
    """Write a data file and then its control file, as a source system delivers one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    write_control(path, content, rows)
