"""Lines of a document, each classified once: blank, Markdown heading, list item or text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

_MD_HEADING = re.compile(r"^\s{0,3}(?P<hashes>#{1,6})\s+(?P<text>.*?)\s*#*\s*$")
_BULLET = re.compile(r"^(?P<indent>\s*)(?P<marker>[-•◦*·▪‣»«+])\s+(?P<text>\S.*)$")
_OCR_BULLET = re.compile(r"^(?P<indent>\s*)(?P<marker>[eo])\s+(?P<text>[A-ZÅÄÖÉ0-9\"”(].*)$")
"""Tesseract reads ``•`` as ``e`` and ``◦`` as ``o``; no Swedish line opens with those words."""
_NUMBERED = re.compile(
    r"^(?P<indent>\s*)(?P<number>\d{1,2}(?:\.\d{1,2})+\.?|\d{1,2}[.)])\s+(?P<text>\S.*)$"
)
"""``1.``, ``2)`` or a dotted section number such as ``2.1``."""
_INNER_OCR_MARKER = re.compile(r"^[eo]\s+(?=[A-ZÅÄÖÉ])")
_SECOND_LEVEL_MARKERS = frozenset("◦o")
_SPECKS = re.compile(r"^(?P<indent>\s*)[.,'`‘’|:;_]+\s+(?=\S)|\s+[|]+\s*$")
"""Dust on a scan that OCR reads as a full stop or bar at the start or end of a line."""


class Kind(Enum):
    BLANK = "blank"
    HEADING = "heading"
    """A Markdown heading (``## …``)."""
    BULLET = "bullet"
    NUMBERED = "numbered"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class Line:
    """One line of the prepared text."""

    number: int
    """1-based line number."""
    raw: str
    text: str
    """The line without indentation, list marker or heading hashes."""
    kind: Kind
    depth: int = 0
    """Heading depth (number of ``#``) or list nesting (1 = top level)."""
    indent: int = 0
    value: str | None = None
    """The number of a numbered line, as written (``2`` or ``2.1``)."""

    @property
    def hard_break(self) -> bool:
        """Markdown's two trailing spaces: the line ends where the author ended it."""
        return self.raw.endswith("  ")


def classify(text: str, *, markdown: bool) -> list[Line]:
    """Split prepared text into classified lines."""
    return [_classify(i, raw, markdown) for i, raw in enumerate(text.split("\n"), start=1)]


def is_markdown(text: str) -> bool:
    """Whether the text uses Markdown headings."""
    return any(_MD_HEADING.match(line) for line in text.split("\n"))


def _classify(number: int, raw: str, markdown: bool) -> Line:
    if not markdown:
        raw = _SPECKS.sub(lambda m: m["indent"] or "", raw)
    if not raw.strip():
        return Line(number, raw, "", Kind.BLANK)
    indent = len(raw) - len(raw.lstrip(" "))
    if markdown and (m := _MD_HEADING.match(raw)):
        return Line(number, raw, m["text"], Kind.HEADING, depth=len(m["hashes"]))
    if m := _NUMBERED.match(raw):
        value = m["number"].rstrip(".)")
        depth = value.count(".") + 1
        return Line(number, raw, m["text"].strip(), Kind.NUMBERED, depth, indent, value=value)
    m = _BULLET.match(raw) or (None if markdown else _OCR_BULLET.match(raw))
    if m and not (m["marker"] == "*" and not markdown and m["text"].endswith("*")):
        text = m["text"].strip()
        inner = _INNER_OCR_MARKER.match(text)
        if inner:  # "- o Okunskap": a bullet's OCR'd marker left inside a Markdown list item
            text = text[inner.end() :]
        if markdown:
            depth = 1 + indent // 2
        else:
            depth = (2 if m["marker"] in _SECOND_LEVEL_MARKERS else 1) + (1 if indent >= 4 else 0)
        return Line(number, raw, text, Kind.BULLET, depth, indent)
    return Line(number, raw, raw.strip(), Kind.TEXT, 0, indent)
