"""PDFs: read the text layer where there is one, OCR the pages where there is not."""

from __future__ import annotations

import logging
import re
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pdfplumber
from pdfminer.pdfdocument import PDFPasswordIncorrect

from pipeline._deadline import TimeLimit, time_limit
from pipeline._exec.pdftoppm import render_page
from pipeline.exceptions import CorruptFile, EmptyFile, EncryptedPdf
from pipeline.extract.image import MAX_PIXELS
from pipeline.extract.ocr import OcrOptions, ocr_page
from pipeline.extract.preview import PDF_DPI, preview_of
from pipeline.records import Page, PageKind

# pdfminer logs a warning for each damaged object it reads past; what it cannot read
# past becomes one CorruptFile line, so the warnings would only clutter stderr.
logging.getLogger("pdfminer").setLevel(logging.ERROR)

MIN_LETTERS = 25
"""A page with fewer letters in its text layer than this is treated as a scan."""
MARGIN = 0.1
"""Share of the page height at top and bottom where running headers and footers live."""
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class _Line:
    text: str
    top: float
    bottom: float
    x0: float


@dataclass(frozen=True, slots=True)
class _LayerPage:
    number: int
    width: float
    height: float
    lines: tuple[_Line, ...]
    letters: int
    has_images: bool
    image_bytes: int


def read_pdf(path: Path, options: OcrOptions) -> tuple[tuple[Page, ...], tuple[str, ...]]:
    """Extract every page; return the pages and notes on what was dropped."""
    layer = read_layer(path, options)
    pages = tuple(
        page if page is not None else ocr_pdf_page(path, number, options)[0]
        for number, page in enumerate(layer.pages, start=1)
    )
    return pages, layer.notes


@dataclass(frozen=True, slots=True)
class Layer:
    """What a PDF's text layer gives, before any OCR."""

    pages: tuple[Page | None, ...]
    """Each page read from its text layer, or ``None`` where it needs OCR."""
    notes: tuple[str, ...]
    image_bytes: tuple[int, ...]
    """Compressed size of each page's images: roughly how long its OCR will take."""


def read_layer(path: Path, options: OcrOptions) -> Layer:
    """Read the text layer of every page and tell which pages need OCR.

    OCR is left to :func:`ocr_pdf_page`, so the pages of one PDF can be recognised
    in parallel.
    """
    layer = _read_layer(path, options.timeout)
    repeated = _repeated_margin_lines(layer)
    notes = tuple(f"dropped repeated header/footer: {line!r}" for line in sorted(repeated))
    pages: list[Page | None] = []
    for page in layer:
        if _usable(page):
            text = _layout(page, repeated)
            pages.append(Page(number=page.number, text=text, kind=PageKind.TEXT_LAYER))
            continue
        pixels = (page.width * options.dpi / 72) * (page.height * options.dpi / 72)
        if pixels > MAX_PIXELS:
            raise CorruptFile(
                f"page {page.number} too large to be a page scan "
                f"({page.width:.0f}x{page.height:.0f} pt at {options.dpi} dpi)"
            )
        pages.append(None)
    return Layer(tuple(pages), notes, tuple(page.image_bytes for page in layer))


def ocr_pdf_page(
    path: Path, number: int, options: OcrOptions, *, preview: bool = False
) -> tuple[Page, bytes | None]:
    """Render page ``number`` (1-based) and OCR it; with ``preview``, make its page image
    for people from the same render (see :mod:`pipeline.extract.preview`)."""
    with tempfile.TemporaryDirectory(prefix="minutes-pdf-") as tmp:
        image = render_page(path, number, Path(tmp), dpi=options.dpi, timeout=options.timeout)
        page = ocr_page(image, number, options)
        made = preview and options.dpi == PDF_DPI  # else the review renders it as PDF_DPI
        return page, preview_of(image, options.dpi) if made else None


def _read_layer(path: Path, timeout: float) -> list[_LayerPage]:
    """Every page's text layer; opening the file and reading each page may take
    ``timeout`` seconds each (a pathological file can keep pdfminer busy for hours)."""
    step = "opening the file"
    pages: list[_LayerPage] = []
    try:
        with time_limit(timeout):
            pdf = pdfplumber.open(path)
        with pdf:
            with time_limit(timeout):
                listed = pdf.pages
            for number, page in enumerate(listed, 1):
                step = f"reading page {number}"
                with time_limit(timeout):
                    pages.append(_read_page(number, page))
    except TimeLimit as error:
        raise CorruptFile(f"PDF too slow to parse: {step} took {error}; given up") from None
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
        _Line(text=_valid(line["text"]), top=line["top"], bottom=line["bottom"], x0=line["x0"])
        for line in page.extract_text_lines(strip=True, return_chars=False)
        if line["text"].strip()
    )
    letters = sum(1 for ch in page.chars if ch.get("text", "").isalpha())
    return _LayerPage(
        number=number,
        width=float(page.width),
        height=float(page.height),
        lines=lines,
        letters=letters,
        has_images=bool(page.images),
        image_bytes=sum(len(getattr(i.get("stream"), "rawdata", b"") or b"") for i in page.images),
    )


def _valid(text: str) -> str:
    # A damaged ToUnicode map can yield lone surrogates, which no UTF-8 output can hold.
    return _SURROGATE.sub("\ufffd", text)


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
