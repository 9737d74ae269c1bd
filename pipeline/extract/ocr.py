"""Turn one page image into a :class:`Page` with Tesseract."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline._exec import tesseract
from pipeline.records import Page, PageKind


@dataclass(frozen=True, slots=True)
class OcrOptions:
    """How pages are recognised; the defaults suit typed Swedish minutes."""

    language: str = "swe"
    dpi: int = 300
    """Resolution PDF pages are rendered at, and assumed for images that do not say."""
    psm: int = 3
    timeout: float = 300.0
    """Seconds one page may take before it is given up."""


def ocr_page(image: Path, number: int, options: OcrOptions, dpi: int | None = None) -> Page:
    """Recognise ``image`` as page ``number`` (1-based)."""
    result = tesseract.recognise(
        image,
        language=options.language,
        dpi=dpi or options.dpi,
        psm=options.psm,
        timeout=options.timeout,
    )
    confidence = (
        sum(w.confidence for w in result.words) / len(result.words) if result.words else None
    )
    return Page(
        number=number,
        text=result.text,
        kind=PageKind.OCR,
        confidence=confidence,
        words=result.words,
    )
