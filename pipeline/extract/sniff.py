"""Decide what a file is from its first bytes, not from its name."""

from __future__ import annotations

from pathlib import Path

from pipeline.records import SourceKind

_MAGIC: tuple[tuple[bytes, SourceKind], ...] = (
    (b"%PDF-", SourceKind.PDF),
    (b"\x89PNG\r\n\x1a\n", SourceKind.IMAGE),
    (b"\xff\xd8\xff", SourceKind.IMAGE),  # JPEG
    (b"II*\x00", SourceKind.IMAGE),  # TIFF, little-endian
    (b"MM\x00*", SourceKind.IMAGE),  # TIFF, big-endian
    (b"GIF87a", SourceKind.IMAGE),
    (b"GIF89a", SourceKind.IMAGE),
    (b"BM", SourceKind.IMAGE),
)
_MARKDOWN_SUFFIXES = {".md", ".markdown", ".mdown"}


def sniff(path: Path, head: bytes) -> SourceKind:
    """The kind of a file given its first bytes; text is the fallback.

    >>> sniff(Path("scan.txt"), b"%PDF-1.7 ...")
    <SourceKind.PDF: 'pdf'>
    >>> sniff(Path("notes.md"), b"## Gemensam utvecklingsgrupp")
    <SourceKind.MARKDOWN: 'markdown'>
    """
    # PDF writers may put junk before the header; readers accept it in the first 1 KiB.
    if b"%PDF-" in head[:1024]:
        return SourceKind.PDF
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head[8:12] == b"WEBP" and head.startswith(b"RIFF"):
        return SourceKind.IMAGE
    if path.suffix.lower() in _MARKDOWN_SUFFIXES:
        return SourceKind.MARKDOWN
    return SourceKind.TEXT
