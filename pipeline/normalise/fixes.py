"""One function per fix that needs no lexicon, each ``str -> str``.

Every fix keeps the text's line structure (same number of lines, in the same
order), so a change can be located by line in the extracted text and the
audit trail can be derived by comparing lines. The docstring examples are real
damage from archived minutes.
"""

from __future__ import annotations

import re
import unicodedata

import ftfy

from pipeline.normalise.chardata import (
    BULLET_MARKS,
    DOS_AS_CP1252,
    OCR_BULLETS,
    SWEDISH_MOJIBAKE,
)

_FTFY = ftfy.TextFixerConfig(
    uncurl_quotes=False,  # typographic quotes are the author's, keep them
    fix_line_breaks=False,  # extraction already did; and lines must stay aligned
    fix_latin_ligatures=False,
    fix_character_width=False,
    normalization="NFC",
    explain=False,
)
_MOJIBAKE = re.compile("|".join(map(re.escape, SWEDISH_MOJIBAKE)))
# "”" is also the Swedish quotation mark, so it counts only between letters;
# the others are never quotes next to a letter in Swedish text.
_DOS_OTHERS = "".join(ch for ch in DOS_AS_CP1252 if ch != "”")
_DOS_IN_WORD = re.compile(
    rf"(?<=[^\W\d_])”(?=[^\W\d_])|(?<=[^\W\d_])[{_DOS_OTHERS}]|[{_DOS_OTHERS}](?=[^\W\d_])"
)


def fix_encoding(text: str) -> str:
    """Repair mojibake: UTF-8 read as cp1252 or latin-1, once or twice over.

    >>> fix_encoding("socialfÃ¶rvaltningen")
    'socialförvaltningen'
    >>> fix_encoding("fÃƒÂ¶rvaltning")
    'förvaltning'
    >>> fix_encoding("Ã¥rsmötet")  # a lone sequence in otherwise good text
    'årsmötet'
    >>> fix_encoding("Pia Ã…hlÃ©n")
    'Pia Åhlén'
    >>> fix_encoding("Vi sÃ¥g ”filmen” – bra")
    'Vi såg ”filmen” – bra'
    >>> fix_encoding("Klart – ”bra” möte")  # clean text is left exactly as it is
    'Klart – ”bra” möte'
    """
    if text.isascii():
        return text
    fixed = ftfy.fix_text(text, _FTFY)
    return _MOJIBAKE.sub(lambda m: SWEDISH_MOJIBAKE[m.group()], fixed)


def fix_dos_letters(text: str) -> str:
    """Repair DOS (cp437/cp850) letters that were read as cp1252.

    Only inside words, and only when a text holds at least two such words:
    typographic quotes next to letters are otherwise left alone.

    >>> fix_dos_letters("Vi ses f”r att g† igenom „renden.")
    'Vi ses för att gå igenom ärenden.'
    >>> fix_dos_letters("Han sa ”hej”.")
    'Han sa ”hej”.'
    """
    if len(_DOS_IN_WORD.findall(text)) < 2:
        return text
    return _DOS_IN_WORD.sub(lambda m: DOS_AS_CP1252[m.group()], text)


_SPECK = re.compile(r"(?:(?<=\s)|^)[|~_¦^`'‘’.,:;¢«»]{1,2}(?:[ \t]|$)", re.MULTILINE)
# A dash alone at the end of a line, or a line of nothing but marks, is dust
# too; a dash opening a line may be a list item, so it stays.
_TRAILING_DASH = re.compile(r"(?<=\S)[ \t]+[-–—]$", re.MULTILINE)
_MARKS_ONLY = re.compile(r"^[ \t]*[-–—|~_¦^`'‘’.,:;¢«»]+[ \t]*$", re.MULTILINE)
# Underscores and the opening single quote are not Swedish punctuation: stuck
# to a word in OCR output they are specks (addresses are left alone).
_STUCK = re.compile(r"(?<![\w@/.:])[_‘]+(?=[^\W\d_])|(?<=[^\W\d_])_+(?![\w@/.])")
# Without the Swedish model Tesseract often opens a line with a dash stuck to its
# first word, also after a word broken at the line end (dag- / -ordningen, AMF-- /
# - dagen). A list item has a space after its dash; a word does not start with one.
_BROKEN_WORD_DASH = re.compile(r"(?<=[^\W\d_])-+[ \t]*\n([ \t]*)-[ \t]?(?=[a-zåäö])")
_LINE_START_DASH = re.compile(r"^([ \t]*)-(?=[a-zåäö]{2})", re.MULTILINE)
# ... and a full stop or comma after a line-end hyphen (Solro-. / sen).
_HYPHEN_SPECK = re.compile(r"(?<=[^\W\d_]-)[.,'`]+(?=[ \t]*$)", re.MULTILINE)
# An underscore between two words is a speck for the space (bor_hos), except in an
# address, where it is part of the name (first_last@exempel.se, /var_finns/).
_GLUED_UNDERSCORE = re.compile(r"(?<![\w@/.:])[^\W\d_]+(?:_+[^\W\d_]+)+(?![\w@/.:])")


def remove_specks(text: str) -> str:
    """Drop the marks Tesseract makes of dust and stains between and on words.

    A bar, tilde, underscore, quote or full stop standing alone between spaces
    is never Swedish punctuation, nor is an underscore stuck to a word. A dash
    opening a line is kept: it may be a list item.

    >>> remove_specks("Vi ses | i morgon . Kl 13 ~")
    'Vi ses i morgon Kl 13 '
    >>> remove_specks("Samverkan - workshop")
    'Samverkan - workshop'
    >>> remove_specks("‘Välkommen till _Arbetsmarknad och görs_ kan -\\n-\\n- Punkt")
    'Välkommen till Arbetsmarknad och görs kan\\n\\n- Punkt'

    A dash stuck to the first word of a line is dust as well, and so is one opening
    the line after a broken word, which the hyphenation stage then joins:

    >>> ocr = "sätta dag-\\n-ordningen i\\n-november, AMF--\\n- dagen, Solro-.\\nsen"
    >>> print(remove_specks(ocr))
    sätta dag-
    ordningen i
    november, AMF-
    dagen, Solro-
    sen

    An underscore between words stands for a space, except in an address:

    >>> remove_specks("hon bor_hos honom, skriv till anna_berg@exempel.se")
    'hon bor hos honom, skriv till anna_berg@exempel.se'
    """
    text = _BROKEN_WORD_DASH.sub(r"-\n\1", text)
    text = _LINE_START_DASH.sub(r"\1", text)
    text = _HYPHEN_SPECK.sub("", text)
    text = _GLUED_UNDERSCORE.sub(lambda m: re.sub("_+", " ", m.group()), text)
    text = _SPECK.sub("", text)
    text = _TRAILING_DASH.sub("", text)
    text = _MARKS_ONLY.sub("", text)
    return _STUCK.sub("", text)


def normalize_unicode(text: str) -> str:
    """Compose characters (NFC): a decomposed ``a`` + ring becomes ``å``.

    >>> normalize_unicode("pa\\u030a") == "på"
    True
    """
    return unicodedata.normalize("NFC", text)


_MARKS = "|".join(re.escape(m) for m in sorted([*OCR_BULLETS, "•", "◦", "▪", "·"], key=len)[::-1])
_BULLET_LINE = re.compile(rf"^(?P<indent>[ \t]*)(?P<mark>{_MARKS})[ \t]+(?=\S)")


def fix_bullets(text: str) -> str:
    """Turn OCR'd list bullets at the start of a line into ``•`` (level 1) and ``◦`` (level 2).

    A lone ``e`` or ``o`` opening a line is not a Swedish word, so it is a
    bullet Tesseract misread; a line starting with ``o`` inside a list of ``e``
    lines is the list's second level.

    >>> print(fix_bullets("e Hur kan vi samverka?\\no Vad gör vi bra?\\n e  Mer fokus"))
    • Hur kan vi samverka?
    ◦ Vad gör vi bra?
     • Mer fokus
    >>> fix_bullets("o och e är bokstäver")  # not a list: 'och' follows, no other bullet
    'o och e är bokstäver'
    """
    lines = text.split("\n")
    marks = [_BULLET_LINE.match(line) for line in lines]
    if not any(m and m.group("mark") != "o" for m in marks) and not _has_list(lines, marks):
        return text
    out = []
    for line, match in zip(lines, marks, strict=True):
        if match is None:
            out.append(line)
            continue
        mark = match.group("mark")
        level = OCR_BULLETS.get(mark)
        if level is None:  # already a real bullet
            out.append(line)
            continue
        rest = line[match.end() :]
        out.append(f"{match.group('indent')}{BULLET_MARKS[level]} {rest}")
    return "\n".join(out)


def _has_list(lines: list[str], marks: list[re.Match[str] | None]) -> bool:
    # Two or more consecutive-ish lines opened by the same lone letter: a list.
    return sum(1 for m in marks if m) >= 2


_LIST_ITEM = re.compile(r"^\s*(?:[•◦▪·*-]|\d+[.)]|§)\s")


def reflow(text: str) -> str:
    """Join the lines of each paragraph into one; list items and short lines stay apart.

    Not a repair stage (it changes the line structure): for reading, and for
    ``minutes normalize --reflow``.

    >>> print(reflow("Vi har träffats varannan vecka i två år, men behovet har ändrats i takt med\\natt nya projekt har bildats.\\n\\n• Ett\\n• Två"))
    Vi har träffats varannan vecka i två år, men behovet har ändrats i takt med att nya projekt har bildats.
    <BLANKLINE>
    • Ett
    • Två
    """  # noqa: E501
    out: list[str] = []
    for page in text.split("\f"):
        lines: list[str] = []
        for line in page.split("\n"):
            previous = lines[-1] if lines else ""
            joinable = (
                previous.strip()
                and line.strip()
                and len(previous) >= 60  # the previous line was wrapped, not a short line
                and not _LIST_ITEM.match(line)
            )
            if joinable:
                lines[-1] = f"{previous.rstrip()} {line.strip()}"
            else:
                lines.append(line)
        out.append("\n".join(lines))
    return "\f".join(out)
