"""Decode plain text and Markdown files of unknown encoding."""

from __future__ import annotations

import codecs
import string

from charset_normalizer import from_bytes

from pipeline.exceptions import EmptyFile, UnsupportedFormat
from pipeline.records import Page, PageKind

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode(data: bytes) -> tuple[str, str]:
    """Return ``(text, encoding)`` for the bytes of a text file.

    A byte-order mark names the encoding; valid UTF-8 is taken as UTF-8
    (mojibake inside it is the normaliser's job); a Western code page that
    gives Swedish letters comes next; anything else goes to charset-normalizer's
    detector.

    >>> decode("Närvarande".encode("cp1252"))
    ('Närvarande', 'cp1252')
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding.removesuffix("-sig")
            except UnicodeDecodeError as error:
                if bom != codecs.BOM_UTF8:
                    raise UnsupportedFormat(
                        f"binary content, not text (a {encoding} byte-order mark, "
                        f"then bytes that are not {encoding}: {error.reason})"
                    ) from error
            # A UTF-8 mark before text saved in another encoding (an editor that added
            # it to a cp1252 file, say): judge the rest as if unmarked.
            data = data[len(bom) :]
            break
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if b"\x00" in data:
        raise UnsupportedFormat("binary content, not text")
    western = _best_western(data)
    if western is not None:
        return western
    best = from_bytes(data).best()
    if best is None:
        raise UnsupportedFormat("binary content, not text (no text encoding fits)")
    return str(best), codecs.lookup(best.encoding).name


# Single-byte encodings Swedish text was exported in, most likely first. Generic
# detectors cannot tell them apart on a few kilobytes (charset-normalizer picks
# hp_roman8 for a cp1252 export), but Swedish text can: the right decoding
# yields å, ä, ö where the wrong ones yield letters Swedish does not use.
_WESTERN = ("cp1252", "iso8859-15", "cp850", "cp437", "mac-roman")
_EXPECTED = frozenset(string.printable + "åäöÅÄÖéÉèÈüÜæøÆØáàíóúñçÇ§°½¼¾€£«»“”„‘’–—…•·\u00a0\u00ad")


def _best_western(data: bytes) -> tuple[str, str] | None:
    """The Western decoding with the fewest characters unlikely in Swedish text.

    >>> _best_western("För året".encode("cp850"))
    ('För året', 'cp850')
    """
    best: tuple[int, str, str] | None = None
    for encoding in _WESTERN:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        unlikely = sum(1 for ch in text if ch not in _EXPECTED)
        if best is None or unlikely < best[0]:
            best = (unlikely, text, encoding)
    if best is None:
        return None
    unlikely, text, encoding = best
    non_ascii = sum(1 for ch in text if ord(ch) > 127)
    # Mostly odd letters whatever we try: not a Western text, ask the detector.
    if non_ascii and unlikely > non_ascii / 2:
        return None
    return text, encoding


def read_text(data: bytes, kind: PageKind = PageKind.PLAIN) -> tuple[Page, str]:
    """Decode a text file into a single page; reject empty and binary input."""
    if not data.strip():
        raise EmptyFile("file is empty")
    text, encoding = decode(data)
    if _control_ratio(text) > 0.05:
        raise UnsupportedFormat(f"binary content, not text (decoded as {encoding})")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise EmptyFile("file holds no text")
    return Page(number=1, text=text, kind=kind), encoding


def _control_ratio(text: str) -> float:
    """Share of control characters other than whitespace: high for binary junk."""
    if not text:
        return 0.0
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f\v")
    controls += text.count("\ufffd")
    return controls / len(text)
