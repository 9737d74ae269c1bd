"""Batch stage: run every source of a folder through the stages and write the outputs."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import as_completed
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import _concurrent
from pipeline.exceptions import MinutesError, describe
from pipeline.export import write_atomic, write_csv
from pipeline.extract import OcrOptions, extract
from pipeline.records import Document

DOCUMENT_FIELDS = (
    "source",
    "sha256",
    "kind",
    "pages",
    "ocr_pages",
    "mean_ocr_confidence",
    "encoding",
    "status",
    "error",
)


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Everything that decides what a run produces."""

    ocr: OcrOptions = field(default_factory=OcrOptions)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What processing one source produced: a document, or the reason it failed."""

    source: str
    """Path relative to the raw folder, with ``/`` separators."""
    document: Document | None
    text: str | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def row(self) -> dict[str, object]:
        doc = self.document
        confidence = doc.mean_ocr_confidence if doc else None
        return {
            "source": self.source,
            "sha256": doc.sha256 if doc else None,
            "kind": doc.kind.value if doc else None,
            "pages": len(doc.pages) if doc else None,
            "ocr_pages": doc.ocr_pages if doc else None,
            "mean_ocr_confidence": f"{confidence:.1f}" if confidence is not None else None,
            "encoding": doc.encoding if doc else None,
            "status": "ok" if self.ok else "failed",
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class RunResult:
    outcomes: tuple[Outcome, ...]

    @property
    def failed(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if not o.ok)


def discover(raw: Path) -> list[Path]:
    """Source files under ``raw`` in a stable order; hidden files are skipped."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(raw, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(folder) / name for name in files if not name.startswith("."))
    return sorted(found, key=lambda p: p.relative_to(raw).as_posix())


def process(path: Path, relative: str, options: RunOptions) -> Outcome:
    """Run one source through the stages; input problems become a failed outcome."""
    try:
        document = extract(path, options.ocr)
    except MinutesError as error:
        return Outcome(source=relative, document=None, text=None, error=describe(error, path))
    return Outcome(source=relative, document=document, text=document.text, error=None)


def text_path(out: Path, relative: str) -> Path:
    """Where the cleaned text of a source goes: ``OUT/text/<source>.txt``."""
    return out / "text" / f"{relative}.txt"


def run(
    raw: Path,
    out: Path,
    options: RunOptions | None = None,
    *,
    jobs: int | None = None,
    report: Callable[[str], None] | None = None,
) -> RunResult:
    """Process every source under ``raw`` and write the outputs under ``out``.

    A source that fails gets a ``failed`` row and a line through ``report``
    (stderr by default); the others are processed all the same.
    """
    options = options or RunOptions()
    report = report or _stderr
    sources = discover(raw)
    outcomes: list[Outcome] = []
    for outcome in _run_all(sources, raw, options, jobs):
        if outcome.ok and outcome.text is not None:
            write_atomic(text_path(out, outcome.source), outcome.text)
        else:
            report(f"minutes: {outcome.error}")
        outcomes.append(outcome)
    outcomes.sort(key=lambda o: o.source)
    write_csv(out / "documents.csv", DOCUMENT_FIELDS, (o.row() for o in outcomes))
    return RunResult(outcomes=tuple(outcomes))


def _run_all(
    sources: list[Path], raw: Path, options: RunOptions, jobs: int | None
) -> Iterator[Outcome]:
    with _concurrent.executor(jobs) as pool:
        futures = {
            pool.submit(process, path, path.relative_to(raw).as_posix(), options): path
            for path in sources
        }
        for future in as_completed(futures):
            path = futures[future]
            try:
                yield future.result()
            except Exception as error:  # a bug must not cost the rest of the batch
                relative = path.relative_to(raw).as_posix()
                yield Outcome(relative, None, None, describe(error, path))


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
