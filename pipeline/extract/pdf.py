"""PDFs: read the text layer where there is one, OCR the pages where there is not."""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pdfplumber
from pdfminer.pdfdocument import PDFPasswordIncorrect

from pipeline._exec.pdftoppm import render_page
from pipeline.exceptions import CorruptFile, EmptyFile, EncryptedPdf
from pipeline.extract.ocr import OcrOptions, ocr_page
from pipeline.records import Page, PageKind

MIN_LETTERS = 25
"""A page with fewer letters in its text layer than this is treated as a scan."""
MARGIN = 0.1
"""Share of the page height at top and bottom where running headers and footers live."""


@dataclass(frozen=True, slots=True)
class _Line:
    text: str
    top: float
    bottom: float
    x0: float


@dataclass(frozen=True, slots=True)
class _LayerPage:
    number: int
    height: float
    lines: tuple[_Line, ...]
    letters: int
    has_images: bool


def read_pdf(path: Path, options: OcrOptions) -> tuple[tuple[Page, ...], tuple[str, ...]]:
    """Extract every page; return the pages and notes on what was dropped."""
    layer = _read_layer(path)
    repeated = _repeated_margin_lines(layer)
    notes = tuple(f"dropped repeated header/footer: {line!r}" for line in sorted(repeated))
    pages: list[Page] = []
    with tempfile.TemporaryDirectory(prefix="minutes-pdf-") as tmp:
        for page in layer:
            if _usable(page):
                text = _layout(page, repeated)
                pages.append(Page(number=page.number, text=text, kind=PageKind.TEXT_LAYER))
            else:
                image = render_page(path, page.number, Path(tmp), dpi=options.dpi)
                pages.append(ocr_page(image, page.number, options))
                image.unlink()
    return tuple(pages), notes


def _read_layer(path: Path) -> list[_LayerPage]:
    try:
        with pdfplumber.open(path) as pdf:
            pages = [_read_page(number, page) for number, page in enumerate(pdf.pages, 1)]
    except Exception as error:
        # pdfplumber wraps pdfminer's errors, and pdfminer raises bare exceptions
        # of many types on damaged files: look through the whole chain.
        chain = list(_chain(error))
        if any(isinstance(e, PDFPasswordIncorrect) for e in chain):
            raise EncryptedPdf("PDF is encrypted and needs a password") from error
        cause = chain[-1]
        detail = str(cause) or type(cause).__name__
        raise CorruptFile(f"corrupt PDF ({detail})") from error
    if not pages:
        raise EmptyFile("PDF has no pages")
    return pages


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: BaseException | None = error
    while seen is not None:
        yield seen
        for arg in seen.args:
            if isinstance(arg, BaseException):
                yield arg
        seen = seen.__cause__ or seen.__context__


def _read_page(number: int, page: Any) -> _LayerPage:
    lines = tuple(
        _Line(text=line["text"], top=line["top"], bottom=line["bottom"], x0=line["x0"])
        for line in page.extract_text_lines(strip=True, return_chars=False)
        if line["text"].strip()
    )
    letters = sum(1 for ch in page.chars if ch.get("text", "").isalpha())
    return _LayerPage(
        number=number,
        height=float(page.height),
        lines=lines,
        letters=letters,
        has_images=bool(page.images),
    )


def _usable(page: _LayerPage) -> bool:
    # A scan may carry a stray text layer (a stamped page number); a born-digital
    # page with little text and no image is still text.
    return page.letters >= MIN_LETTERS or not page.has_images


def _margin_key(line: _Line, page: _LayerPage) -> str | None:
    """Key of a line in the top or bottom margin, page numbers masked out."""
    in_margin = line.bottom <= page.height * MARGIN or line.top >= page.height * (1 - MARGIN)
    return re.sub(r"\d+", "#", line.text.strip().lower()) if in_margin else None


def _repeated_margin_lines(pages: list[_LayerPage]) -> set[str]:
    """Margin lines found on at least half the pages (and on two or more)."""
    if len(pages) < 2:
        return set()
    counts: Counter[str] = Counter()
    for page in pages:
        counts.update({key for line in page.lines if (key := _margin_key(line, page))})
    threshold = max(2, (len(pages) + 1) // 2)
    return {key for key, count in counts.items() if count >= threshold}


def _layout(page: _LayerPage, repeated: set[str]) -> str:
    """Lines in reading order, with a blank line where the vertical gap says paragraph."""
    lines = [line for line in page.lines if _margin_key(line, page) not in repeated]
    if not lines:
        return ""
    heights = sorted(line.bottom - line.top for line in lines)
    line_height = heights[len(heights) // 2]
    out: list[str] = []
    previous: _Line | None = None
    for line in lines:
        if previous is not None and line.top - previous.bottom > 0.8 * line_height:
            out.append("")
        out.append(line.text)
        previous = line
    return "\n".join(out) + "\n"
