"""What source systems delivered: data files, their ``.ok`` control files, and file problems."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
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


def ready_files(landing: Path, source: str, day: date) -> tuple[list[LandedFile], list[Path]]:
    """Data files whose control file has arrived, and those still waiting for one.

    A source writes the control file last, so a file without one may still be copying.
    """
    folder = partition_folder(landing, source, day)
    if not folder.is_dir():
        return [], []
    ready: list[LandedFile] = []
    waiting: list[Path] = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.suffix.lower() not in DATA_SUFFIXES:
            continue
        landed = LandedFile(source, day, path)
        if landed.control_path.exists():
            ready.append(landed)
        else:
            waiting.append(path)
    return ready, waiting


def read_control(landed: LandedFile) -> Control:
    try:
        payload = json.loads(landed.control_path.read_text(encoding="utf-8"))
        return Control(rows=int(payload["rows"]), sha256=str(payload["sha256"]).lower())
    except (ValueError, KeyError, TypeError) as exc:
        raise FileProblem(
            landed.control_path,
            'control file is not JSON of the form {"rows": N, "sha256": "<hex>"}',
            "have the source system write the control file again",
        ) from exc


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def write_control(path: Path, content: bytes, rows: int) -> None:
    """Write ``<file>.ok`` beside a data file, as a source system does (last)."""
    control = {"rows": rows, "sha256": sha256_hex(content)}
    path.with_name(path.name + CONTROL_SUFFIX).write_text(json.dumps(control), encoding="utf-8")
