"""Extraction: any source file in, a :class:`~pipeline.records.Document` out.

The format is judged from the file's content; the name only tells Markdown
from plain text.
"""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

from pipeline.exceptions import EmptyFile, MinutesError, UnreadableFile
from pipeline.extract.image import read_image
from pipeline.extract.ocr import OcrOptions
from pipeline.extract.pdf import read_pdf
from pipeline.extract.sniff import sniff
from pipeline.extract.text import read_text
from pipeline.records import Document, SourceKind

__all__ = ["OcrOptions", "extract", "read_source"]


def read_source(path: Path) -> bytes:
    """Read a source file read-only, with a clear error for anything that is not a file."""
    try:
        info = path.stat()  # follows symlinks; a loop raises OSError (ELOOP)
        if stat.S_ISDIR(info.st_mode):
            raise UnreadableFile("is a directory", path)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile("not a regular file", path)
        with path.open("rb") as handle:
            return handle.read()
    except PermissionError as error:
        raise UnreadableFile("permission denied", path) from error
    except FileNotFoundError as error:
        raise UnreadableFile("no such file", path) from error
    except OSError as error:
        raise UnreadableFile(error.strerror or str(error), path) from error


def extract(path: Path | str, options: OcrOptions | None = None) -> Document:
    """Extract the text of one source file, page by page.

    Raises a :class:`~pipeline.exceptions.MinutesError` subclass for input
    that cannot be read; the message names the reason in one line.
    """
    path = Path(path)
    options = options or OcrOptions()
    data = read_source(path)
    if not data:
        raise EmptyFile("file is empty", path)
    digest = hashlib.sha256(data).hexdigest()
    kind = sniff(path, data[:1024])
    notes: tuple[str, ...] = ()
    encoding: str | None = None
    try:
        if kind is SourceKind.PDF:
            pages, notes = read_pdf(path, options)
        elif kind is SourceKind.IMAGE:
            pages = read_image(path, options)
        else:
            page, encoding = read_text(data)
            pages = (page,)
    except MinutesError as error:
        error.path = error.path or path
        raise
    return Document(
        source=path, sha256=digest, kind=kind, pages=pages, encoding=encoding, notes=notes
    )
