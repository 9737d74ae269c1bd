"""Typed records that flow one way through the stages.

``extract`` turns a file into a :class:`Document`; later stages read it and
produce records of their own. Records are frozen so a stage can never reach
back and change what an earlier stage produced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


class PageKind(StrEnum):
    """How a page's text was obtained."""

    TEXT_LAYER = "text-layer"
    """Read from the text layer of a PDF."""
    OCR = "ocr"
    """Recognised by Tesseract from a rendered or scanned image."""
    PLAIN = "plain"
    """Decoded from a plain text or Markdown file."""


class SourceKind(StrEnum):
    """What a source file turned out to be, judged by its content."""

    PDF = "pdf"
    IMAGE = "image"
    TEXT = "text"
    MARKDOWN = "markdown"


@dataclass(frozen=True, slots=True)
class OcrWord:
    """One word Tesseract recognised, with its confidence (0–100) and box in pixels."""

    text: str
    confidence: float
    left: int
    top: int
    width: int
    height: int
    line: int
    """Running line number on the page (0-based), in Tesseract's reading order."""


@dataclass(frozen=True, slots=True)
class Page:
    """The text of one page and how it was obtained."""

    number: int
    """1-based page number in the source."""
    text: str
    kind: PageKind
    confidence: float | None = None
    """Mean word confidence (0–100) for OCR'd pages, else ``None``."""
    words: tuple[OcrWord, ...] = ()


@dataclass(frozen=True, slots=True)
class Document:
    """Everything extraction learned about one source file."""

    source: Path
    sha256: str
    kind: SourceKind
    pages: tuple[Page, ...]
    encoding: str | None = None
    """Encoding a text source was decoded from; ``None`` for PDFs and images."""
    notes: tuple[str, ...] = field(default=())
    """Observations worth keeping, e.g. repeated headers that were dropped."""

    @property
    def text(self) -> str:
        """All pages, separated by form feeds as ``pdftotext`` does."""
        return "\f".join(page.text for page in self.pages)

    @property
    def ocr_pages(self) -> int:
        return sum(1 for page in self.pages if page.kind is PageKind.OCR)

    @property
    def mean_ocr_confidence(self) -> float | None:
        """Mean confidence over all OCR'd words of the document."""
        confidences = [w.confidence for p in self.pages for w in p.words]
        if not confidences:
            return None
        return sum(confidences) / len(confidences)


@dataclass(frozen=True, slots=True)
class Change:
    """One correction the normaliser made or proposed.

    ``page``, ``line`` and ``column`` (1-based) locate ``original`` in the
    text the stage read; every stage keeps the line structure, so lines match
    the extracted text line for line.
    """

    stage: str
    line: int
    column: int
    original: str
    replacement: str
    confidence: float
    """How sure the stage is, 0–1; below the threshold a change is proposed, not applied."""
    applied: bool = True
    alternatives: tuple[tuple[str, float], ...] = ()
    """Other readings weighed, with their probabilities (best first)."""
    page: int = 1


@dataclass(frozen=True, slots=True)
class Normalized:
    """The normalised text and every change made (or proposed) on the way."""

    text: str
    changes: tuple[Change, ...] = ()

    @property
    def applied(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.applied)

    @property
    def proposed(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if not c.applied)
