"""A folder of everything an archive can hold that is not a readable document, made at test time.

:func:`make_bad_corpus` fills a folder with bad files, and with good files whose
names are awkward, and says what ``minutes run`` should make of each.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import stat
import struct
import zipfile
import zlib
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

MINUTES = (
    "Gemensam utvecklingsgrupp\n\nNärvarande\nKarin Lund, FMN\nBo Ek, RSMH (antecknar)\n\n"
    "1. Föregående anteckningar\nGicks igenom och lades till handlingarna.\n"
)
LONG_NAME = "l" * 240 + ".txt"
"""A name the source folder holds but no output file can carry (with the temporary suffix)."""
LATIN1_NAME = b"m\xf6te-latin1.txt"
"""A name written by an old system in Latin-1: not valid UTF-8."""


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A few dozen bytes claiming a picture of ``width`` x ``height`` pixels."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _png_chunk(b"IEND", b"")
    )


def encrypted_pdf(source: Path) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt("hemligt")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def slow_pdf(operators: int = 200_000) -> bytes:
    """A PDF of a few kilobytes whose one page draws ``operators`` one-letter strings:
    pdfminer spends about 4 s per 100,000 of them."""
    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    fonts = DictionaryObject({NameObject("/F1"): writer._add_object(font)})
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): fonts})
    content = DecodedStreamObject()
    content.set_data(b"BT /F1 2 Tf 10 10 Td " + b"(a) Tj " * operators + b"ET")
    page[NameObject("/Contents")] = writer._add_object(content)
    page.compress_content_streams()
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def pdf_without_pages() -> bytes:
    buffer = io.BytesIO()
    PdfWriter().write(buffer)
    return buffer.getvalue()


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document>Protokoll</w:document>")
    return buffer.getvalue()


def make_bad_corpus(
    folder: Path, *, pdf: Path, scan: Path, unreadable: bool = True
) -> dict[str, str | None]:
    """Fill ``folder``; return each source's name (as ``documents.csv`` gives it) and the
    words its error must contain, or ``None`` for a file that must be processed.

    ``pdf`` is a text-layer PDF and ``scan`` a page image to derive files from;
    ``unreadable`` adds a file nobody may read (pointless when permissions are not enforced).
    """
    folder.mkdir(parents=True, exist_ok=True)
    expected: dict[str, str | None] = {}

    def put(name: str, data: bytes, error: str | None) -> Path:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        expected[name] = error
        return path

    pdf_bytes = pdf.read_bytes()
    put("tom.txt", b"", "file is empty")
    put("avklippt.pdf", pdf_bytes[: len(pdf_bytes) // 2], "corrupt PDF")
    put("trasig.pdf", b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF", "corrupt PDF")
    put("låst.pdf", encrypted_pdf(pdf), "encrypted")
    put("inga sidor.pdf", pdf_without_pages(), "PDF has no pages")
    put("jättebild.png", bomb_png(), "too large to be a page scan")
    put("skräp.txt", bytes(range(256)) * 16, "binary content")
    put("protokoll.docx", docx(), "unsupported format")
    os.mkfifo(folder / "rör.txt")
    expected["rör.txt"] = "not a regular file"
    (folder / "slinga.txt").symlink_to("slinga.txt")
    expected["slinga.txt"] = "Too many levels of symbolic links"
    (folder / "upp").symlink_to(".", target_is_directory=True)
    expected["upp"] = "symbolic link to a folder, not followed"
    put(LONG_NAME, MINUTES.encode(), "File name too long")
    if unreadable:
        secret = put("hemlig.txt", MINUTES.encode(), "permission denied")
        secret.chmod(0)

    # Awkward names of good files: they must be processed like any other.
    put("-ledande streck.txt", MINUTES.encode("cp1252"), None)
    put(" mellanslag först.txt", MINUTES.encode(), None)
    put("möte i Göteborg.md", MINUTES.encode(), None)
    put("undermapp/protokoll 2019.txt", MINUTES.encode(), None)
    (folder / os.fsdecode(LATIN1_NAME)).write_bytes(MINUTES.encode())
    expected["m\\xf6te-latin1.txt"] = None
    shutil.copy(scan, folder / "-skannad sida.png")
    expected["-skannad sida.png"] = None
    return expected


def snapshot(folder: Path) -> dict[str, tuple[int, int, int, str | None]]:
    """Every entry under ``folder`` (links not followed): mode, size, mtime and content hash."""
    seen: dict[str, tuple[int, int, int, str | None]] = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root) / name
            info = path.lstat()
            digest = None
            if stat.S_ISREG(info.st_mode):
                with contextlib.suppress(PermissionError):  # cannot change what none may read
                    digest = hashlib.sha256(path.read_bytes()).hexdigest()
            key = os.fsencode(path.relative_to(folder)).decode("utf-8", "backslashreplace")
            seen[key] = (info.st_mode, info.st_size, info.st_mtime_ns, digest)
    return seen
