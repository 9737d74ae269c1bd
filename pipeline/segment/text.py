"""Small text helpers shared by the segmentation modules."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_URL = re.compile(r"(?:https?://|www\.)[^\s<>()\"”]+", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_TRAILING_PUNCT = ".,;:!?)]}>\"'”’"


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    base = unicodedata.normalize("NFD", char)[0].lower()
    return base[0] if base else char


def fold(text: str) -> str:
    """Lower-case ``text`` and drop diacritics, keeping its length.

    Keeping the length lets a pattern found in the folded text be cut out of
    the original, so OCR text that lost its diacritics matches the same rules.

    >>> fold("Närvarande Öberg")
    'narvarande oberg'
    """
    return "".join(_fold_char(c) for c in text)


def prepare(text: str) -> str:
    """NFC, Unix line ends, tabs as spaces, and page breaks made into line breaks.

    A form feed becomes a blank line when the page ended a sentence and a
    plain line break otherwise, so a paragraph running over a page stays one
    paragraph while a heading at the top of a page is still set apart.
    """
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\t", "    ").replace("\u00a0", " ")
    pages = text.split("\f")
    out = pages[0]
    for page in pages[1:]:
        before = out.rstrip()
        sep = "\n\n" if before and before[-1] in '.!?:”"' else "\n"
        out = before + sep + page.lstrip("\n")
    return out


def urls(text: str) -> list[str]:
    """URLs in ``text``, trailing punctuation removed, in order of appearance."""
    return [m.group(0).rstrip(_TRAILING_PUNCT) for m in _URL.finditer(text)]


def emails(text: str) -> list[str]:
    """E-mail addresses in ``text``, in order of appearance."""
    return [m.group(0).rstrip(".") for m in _EMAIL.finditer(text)]


def has_link(text: str) -> bool:
    return bool(_URL.search(text) or _EMAIL.search(text))


_MD_LINK = re.compile(r"\[([^\]]+)\]\((\S+?)\)")
_MD_AUTOLINK = re.compile(r"<((?:https?://|mailto:)[^>\s]+)>")
_MD_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1|(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")


def strip_markdown(text: str) -> str:
    """Inline Markdown (emphasis, links, autolinks) reduced to its plain text.

    >>> strip_markdown("**måndagar 13:30** på <https://x.se/> och [här](https://y.se)")
    'måndagar 13:30 på https://x.se/ och här (https://y.se)'
    """
    text = _MD_AUTOLINK.sub(lambda m: m.group(1).removeprefix("mailto:"), text)
    text = _MD_LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)
    return _MD_EMPHASIS.sub(lambda m: m.group(2) or m.group(3) or "", text)


_SOFT_HYPHEN = re.compile(r"(?<=[a-zåäöéü]{2})-$")


def join_lines(lines: list[str]) -> str:
    """Reflow hard-wrapped lines into one, undoing hyphenation at line ends.

    A hyphen between two lower-case letters at a line end is taken as a break
    the typesetter made (``samord-`` + ``nare``); a hyphen after a single letter
    (``e-`` + ``tjänsten``) or before a capital (``Nils-`` + ``Erik``) is kept.

    >>> join_lines(["ny samord-", "nare på", "e-", "tjänsten, Nils-", "Erik"])
    'ny samordnare på e-tjänsten, Nils-Erik'
    """
    out = ""
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if not out:
            out = line
        elif out.endswith("-") and line[:1].islower() and _SOFT_HYPHEN.search(out):
            out = out[:-1] + line
        elif out.endswith("-") and (line[:1].isupper() or (len(out) > 1 and out[-2].isalpha())):
            out += line
        else:
            out += " " + line
    return out


def collapse(text: str) -> str:
    """Whitespace runs collapsed to single spaces, ends trimmed."""
    return " ".join(text.split())


def words(text: str) -> frozenset[str]:
    """A word list written as one string, for the small lexicons of the rules."""
    return frozenset(text.split())
