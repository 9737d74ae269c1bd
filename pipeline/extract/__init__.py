"""Extraction: any source file in, a :class:`~pipeline.records.Document` out.

The format is judged from the file's content; the name only tells Markdown
from plain text. :func:`extract` does it all for one file; a batch splits the
work in two, :func:`draft` (everything but OCR) and :func:`ocr_page_of` (one page
each), so the pages of a long scan can be recognised in parallel.
"""

from __future__ import annotations

import hashlib
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from io import BufferedReader
from pathlib import Path

from pipeline.exceptions import (
    EmptyFile,
    MinutesError,
    OcrFailed,
    UnreadableFile,
    UnsupportedFormat,
)
from pipeline.extract.image import frame_sizes, ocr_frame
from pipeline.extract.ocr import OcrOptions
from pipeline.extract.pdf import ocr_pdf_page, read_layer
from pipeline.extract.sniff import sniff
from pipeline.extract.text import read_text
from pipeline.records import Document, Page, SourceKind

__all__ = [
    "Draft",
    "OcrOptions",
    "Recognised",
    "draft",
    "extract",
    "ocr_page_of",
    "read_source",
    "recognise",
    "source_digest",
]

# Formats people save minutes in that we do not read, named so the error says what to do.
_UNSUPPORTED: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive or Office document (.docx, .odt); save it as PDF"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office document (.doc, .xls); save it as PDF"),
    (b"{\\rtf", "an RTF document; save it as PDF or plain text"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x7fELF", "a program, not a document"),
)


@contextmanager
def _opened(path: Path) -> Iterator[BufferedReader]:
    """``path`` opened read-only, with a clear error for anything that is not a file."""
    try:
        info = path.stat()  # follows symlinks; a loop raises OSError (ELOOP)
        if stat.S_ISDIR(info.st_mode):
            raise UnreadableFile("is a directory", path)
        if not stat.S_ISREG(info.st_mode):  # a FIFO would block, a device never end
            raise UnreadableFile("not a regular file", path)
        with path.open("rb") as handle:
            yield handle
    except PermissionError as error:
        raise UnreadableFile("permission denied", path) from error
    except FileNotFoundError as error:
        raise UnreadableFile("no such file", path) from error
    except OSError as error:
        raise UnreadableFile(error.strerror or str(error), path) from error


def read_source(path: Path) -> bytes:
    """Read a source file read-only, with a clear error for anything that is not a file."""
    with _opened(path) as handle:
        return handle.read()


def source_digest(path: Path) -> str:
    """sha256 of a source file's content, read in chunks."""
    with _opened(path) as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@dataclass(frozen=True, slots=True)
class Draft:
    """A source read as far as it goes without OCR; a page still to recognise is ``None``."""

    source: Path
    sha256: str
    kind: SourceKind
    pages: tuple[Page | None, ...]
    encoding: str | None = None
    notes: tuple[str, ...] = ()
    sizes: tuple[int, ...] = ()
    """Compressed size of each page's image (0: none): a guess at how long its OCR takes."""

    @property
    def pending(self) -> tuple[int, ...]:
        """Numbers (1-based) of the pages awaiting OCR."""
        return tuple(n for n, page in enumerate(self.pages, start=1) if page is None)

    def weight(self, number: int) -> float:
        """How long OCR of page ``number`` should take, relative to the document's longest."""
        pending = [self.sizes[n - 1] for n in self.pending if n <= len(self.sizes)]
        largest = max(pending, default=0)
        if not largest or number > len(self.sizes):
            return 1.0
        return self.sizes[number - 1] / largest

    def complete(self, recognised: Mapping[int, Page]) -> Document:
        """The document, with the OCR'd pages filled in by number."""
        pages = tuple(
            page if page is not None else recognised[n]
            for n, page in enumerate(self.pages, start=1)
        )
        return Document(
            source=self.source,
            sha256=self.sha256,
            kind=self.kind,
            pages=pages,
            encoding=self.encoding,
            notes=self.notes,
        )


def draft(path: Path | str, options: OcrOptions | None = None) -> Draft:
    """Read one source file up to its OCR: text, text layers, and which pages need OCR."""
    path = Path(path)
    options = options or OcrOptions()
    data = read_source(path)
    if not data:
        raise EmptyFile("file is empty", path)
    digest = hashlib.sha256(data).hexdigest()
    kind = sniff(path, data[:1024])
    notes: tuple[str, ...] = ()
    sizes: tuple[int, ...] = ()
    encoding: str | None = None
    pages: tuple[Page | None, ...]
    try:
        if kind is SourceKind.PDF:
            layer = read_layer(path, options)
            pages, notes, sizes = layer.pages, layer.notes, layer.image_bytes
        elif kind is SourceKind.IMAGE:
            sizes = frame_sizes(path)
            pages = (None,) * len(sizes)
        else:
            for magic, what in _UNSUPPORTED:
                if data.startswith(magic):
                    raise UnsupportedFormat(f"unsupported format: {what}")
            page, encoding = read_text(data)
            pages = (page,)
    except MinutesError as error:
        error.path = error.path or path
        raise
    return Draft(
        source=path,
        sha256=digest,
        kind=kind,
        pages=pages,
        encoding=encoding,
        notes=notes,
        sizes=sizes,
    )


@dataclass(frozen=True, slots=True)
class Recognised:
    """One page OCR'd, and its page image for people if it was asked for."""

    page: Page
    preview: bytes | None = None
    """A JPEG of about 100 dpi (:mod:`pipeline.extract.preview`); ``None`` if not made."""


def ocr_page_of(
    path: Path | str, kind: SourceKind, number: int, options: OcrOptions | None = None
) -> Page:
    """OCR page ``number`` (1-based) of a PDF or image file."""
    return recognise(path, kind, number, options).page


def recognise(
    path: Path | str,
    kind: SourceKind,
    number: int,
    options: OcrOptions | None = None,
    preview: bool = False,
) -> Recognised:
    """OCR page ``number`` (1-based) of a PDF or image file; with ``preview``, make its
    page image from the same decoded scan."""
    path = Path(path)
    options = options or OcrOptions()
    try:
        if kind is SourceKind.PDF:
            return Recognised(*ocr_pdf_page(path, number, options, preview=preview))
        if kind is SourceKind.IMAGE:
            return Recognised(*ocr_frame(path, number, options, preview=preview))
        raise ValueError(f"{kind.value} files have no pages to OCR")
    except OcrFailed as error:
        raise OcrFailed(f"page {number}: {error.reason}", error.path or path) from error
    except MinutesError as error:
        error.path = error.path or path
        raise


def extract(path: Path | str, options: OcrOptions | None = None) -> Document:
    """Extract the text of one source file, page by page.

    Raises a :class:`~pipeline.exceptions.MinutesError` subclass for input
    that cannot be read; the message names the reason in one line.
    """
    drafted = draft(path, options)
    return drafted.complete(
        {n: ocr_page_of(drafted.source, drafted.kind, n, options) for n in drafted.pending}
    )
