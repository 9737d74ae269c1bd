"""Batch stage: run every source of a folder through the stages and write the outputs."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline import _concurrent
from pipeline.exceptions import MinutesError, describe
from pipeline.export import write_atomic, write_csv
from pipeline.extract import OcrOptions, extract
from pipeline.normalise import Normalizer, default_normalizer
from pipeline.records import Change, Document, PageKind
from pipeline.segment import segment
from pipeline.segment.model import Segmented
from pipeline.tables import build_tables, write_tables

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


CORRECTION_FIELDS = (
    "source",
    "page",
    "line",
    "column",
    "original",
    "replacement",
    "stage",
    "confidence",
    "applied",
    "alternatives",
)

MAX_EVIDENCE = 200
"""Clean documents of a batch that teach the normaliser the archive's words and phrasing."""


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Everything that decides what a run produces."""

    ocr: OcrOptions = field(default_factory=OcrOptions)
    threshold: float | None = None
    """Confidence below which a correction is only proposed (``None``: the normaliser's)."""
    protect: tuple[str, ...] = ()
    """Words never to change, besides the user lexicon's."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What processing one source produced: a document, or the reason it failed."""

    source: str
    """Path relative to the raw folder, with ``/`` separators."""
    document: Document | None
    text: str | None
    error: str | None = None
    changes: tuple[Change, ...] = ()
    segmented: Segmented | None = None

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
    """Extract one source; input problems become a failed outcome."""
    try:
        document = extract(path, options.ocr)
    except MinutesError as error:
        return Outcome(source=relative, document=None, text=None, error=describe(error, path))
    return Outcome(source=relative, document=document, text=document.text, error=None)


def clean(outcome: Outcome, options: RunOptions, evidence: tuple[str, ...] = ()) -> Outcome:
    """Normalise and segment an extracted document."""
    if outcome.document is None:
        return outcome
    normalizer = _normalizer(evidence)
    document = outcome.document
    normalized = normalizer(
        document.text,
        protect=options.protect,
        threshold=options.threshold,
        ocr=document.ocr_pages > 0,
    )
    return replace(
        outcome,
        text=normalized.text,
        changes=normalized.changes,
        segmented=segment(normalized.text, source=outcome.source),
    )


_LEARNED: dict[int, Normalizer] = {}


def _normalizer(evidence: tuple[str, ...]) -> Normalizer:
    """The process's normaliser, taught the batch's clean documents once per batch."""
    if not evidence:
        return default_normalizer()
    key = hash(evidence)
    if key not in _LEARNED:
        _LEARNED.clear()
        taught = Normalizer.load()
        taught.learn(evidence)
        _LEARNED[key] = taught
    return _LEARNED[key]


def is_clean(document: Document) -> bool:
    """Born-digital text (no OCR) that kept its diacritics: evidence for the others."""
    if any(page.kind is PageKind.OCR for page in document.pages):
        return False
    text = document.text
    letters = sum(ch.isalpha() for ch in text)
    swedish = sum(ch in "åäöÅÄÖ" for ch in text)
    # Swedish prose has ~3 % å/ä/ö among its letters; mojibake has "Ã" instead.
    return letters > 200 and swedish / letters > 0.015 and "Ã" not in text


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
    with _concurrent.executor(jobs) as pool:
        extracted = sorted(_extract_all(pool, sources, raw, options), key=lambda o: o.source)
        evidence = tuple(
            o.document.text for o in extracted if o.document is not None and is_clean(o.document)
        )[:MAX_EVIDENCE]
        outcomes = []
        for outcome in _clean_all(pool, extracted, options, evidence):
            if outcome.ok and outcome.text is not None:
                write_atomic(text_path(out, outcome.source), outcome.text)
            else:
                report(f"minutes: {outcome.error}")
            outcomes.append(outcome)
    outcomes.sort(key=lambda o: o.source)
    write_csv(out / "documents.csv", DOCUMENT_FIELDS, (o.row() for o in outcomes))
    write_csv(
        out / "corrections.csv",
        CORRECTION_FIELDS,
        (row for o in outcomes for row in correction_rows(o)),
    )
    segmented = [(o.source, o.segmented) for o in outcomes if o.segmented is not None]
    write_tables(out, build_tables(segmented))
    return RunResult(outcomes=tuple(outcomes))


def correction_rows(outcome: Outcome) -> Iterator[dict[str, object]]:
    """The audit trail of one document, one row per change made or proposed."""
    for change in outcome.changes:
        yield {
            "source": outcome.source,
            "page": change.page,
            "line": change.line,
            "column": change.column,
            "original": change.original,
            "replacement": change.replacement,
            "stage": change.stage,
            "confidence": f"{change.confidence:.3f}",
            "applied": "true" if change.applied else "false",
            "alternatives": json.dumps(
                [[text, score] for text, score in change.alternatives], ensure_ascii=False
            ),
        }


def _extract_all(
    pool: Executor, sources: list[Path], raw: Path, options: RunOptions
) -> Iterator[Outcome]:
    futures = {
        pool.submit(process, path, path.relative_to(raw).as_posix(), options): path
        for path in sources
    }
    for future in as_completed(futures):
        path = futures[future]
        try:
            yield future.result()
        except Exception as error:  # a bug must not cost the rest of the batch
            yield Outcome(path.relative_to(raw).as_posix(), None, None, describe(error, path))


def _clean_all(
    pool: Executor, extracted: list[Outcome], options: RunOptions, evidence: tuple[str, ...]
) -> Iterator[Outcome]:
    futures = {pool.submit(clean, o, options, evidence): o for o in extracted if o.ok}
    yield from (o for o in extracted if not o.ok)
    for future in as_completed(futures):
        outcome = futures[future]
        try:
            yield future.result()
        except Exception as error:
            yield replace(
                outcome,
                text=None,
                error=describe(error, outcome.document.source if outcome.document else None),
            )


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
