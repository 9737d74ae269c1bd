"""Teach the lexicon the archivists' decisions: words to accept, names to protect.

:func:`accept` and :func:`protect` add words to ``user/accept.txt`` and ``user/protect.txt``
of a lexicon folder (``lexicons/`` unless told otherwise). New entries are appended at the
end, one per line, so the archivists' own order and comments stay as they were; a word
already listed is not added again, so teaching twice changes nothing. The next load of the
lexicon notices the changed list and rebuilds its cache by itself.

:func:`apply_decisions` reads the decisions CSV of the review report
(``OUT/review/decisions.csv``, columns :data:`DECISION_FIELDS`), one row per distinct
correction with a ``decision`` column the archivist fills in:

- ``reject``: the original was right. Every word of ``original`` is protected, so the
  normaliser never changes it again.
- ``accept``: the replacement is right (edit ``replacement`` first when the right reading is
  another). Its words that the lexicon does not already know are added to ``accept.txt``;
  with ``replacement`` equal to ``original`` (or empty) the original word is accepted as
  spelt. Accepting confirms a reading; it does not force a proposal below the threshold
  to be applied next time.
- empty: no decision yet; the row is skipped.

:func:`affected` tells whether a change of the user lists can alter a document's
normalisation, so a batch need only re-normalise those documents.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from pipeline.exceptions import ExitCode, MinutesError, UnreadableFile
from pipeline.export import write_atomic
from pipeline.normalise.lexicon import default_lexicon_dir, fold, load

__all__ = [
    "ACCEPT",
    "DECISION_FIELDS",
    "FORMULA_START",
    "REJECT",
    "Reach",
    "Taught",
    "TeachError",
    "accept",
    "affected",
    "apply_decisions",
    "entry_words",
    "list_path",
    "list_words",
    "protect",
    "read_decisions",
    "unformula",
    "user_entries",
]

ACCEPT = "accept"
REJECT = "reject"

DECISION_FIELDS = (
    "original",
    "replacement",
    "decision",
    "status",
    "occurrences",
    "lowest_confidence",
    "sources",
    "example",
)
"""Columns of the decisions CSV; only ``original``, ``replacement`` and ``decision`` are read."""

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""Cell starts a spreadsheet reads as a formula; such cells are written with a leading ``'``."""

# Splits a CSV cell into the words of a list entry: surrounding punctuation is not part of
# a word ("behöver," → "behöver"), inner hyphens and apostrophes are ("AMF-loppet").
_EDGE_PUNCT = re.compile(r"^[^\w]+|[^\w]+$")
_WORD_TOKEN = re.compile(r"\w+")
_LINE_HYPHEN = re.compile(r"-[ \t]*\n[ \t\f]*")
_FUZZY_MIN_LEN = 4  # a shorter word occurs inside nearly every text anyway


class TeachError(MinutesError):
    """A word that cannot go into a list, or a decisions file that cannot be read as one."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True, slots=True)
class Taught:
    """What a decisions file changed."""

    accepted: tuple[str, ...]
    """Words newly added to ``accept.txt``."""
    protected: tuple[str, ...]
    """Words newly added to ``protect.txt``."""
    decided: int
    """Rows with a decision."""
    undecided: int
    """Rows left empty."""

    @property
    def words(self) -> frozenset[str]:
        """Every word added to a list: what :func:`affected` needs."""
        return frozenset(self.accepted) | frozenset(self.protected)


def list_path(lexicon_dir: Path | None, name: str) -> Path:
    """The user list ``name`` (``accept`` or ``protect``) of a lexicon folder."""
    folder = lexicon_dir if lexicon_dir is not None else default_lexicon_dir()
    return folder / "user" / f"{name}.txt"


def list_words(path: Path) -> list[str]:
    """The words of a user list, read as the lexicon reads it (comments dropped)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return []
    return [word for raw in text.splitlines() for word in re.sub(r"(^|\s)#.*", "", raw).split()]


def entry_words(entry: str) -> list[str]:
    """The words an entry holds, NFC, edge punctuation dropped; rejects what cannot be listed."""
    words = []
    for piece in unicodedata.normalize("NFC", entry).split():
        word = _EDGE_PUNCT.sub("", piece)
        if not word:
            continue
        if any(unicodedata.category(ch).startswith("C") for ch in word):
            raise TeachError(f"{word!r}: control characters cannot go into a word list")
        words.append(word)
    return words


def _add(path: Path, entries: Iterable[str]) -> tuple[str, ...]:
    """Append the words of ``entries`` missing from the list at ``path``; return them."""
    present = set(list_words(path))
    new: list[str] = []
    for entry in entries:
        for word in entry_words(entry):
            if word not in present:
                present.add(word)
                new.append(word)
    if not new:
        return ()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    if text and not text.endswith("\n"):
        text += "\n"
    write_atomic(path, text + "".join(f"{word}\n" for word in new))
    return tuple(new)


def accept(words: Iterable[str], lexicon_dir: Path | None = None) -> tuple[str, ...]:
    """Add ``words`` to ``user/accept.txt`` (valid Swedish from now on); return the new ones.

    Words are kept as spelt: a lower-case word also covers its capitalised spellings.
    """
    return _add(list_path(lexicon_dir, "accept"), words)


def protect(names: Iterable[str], lexicon_dir: Path | None = None) -> tuple[str, ...]:
    """Add ``names`` to ``user/protect.txt`` (never changed from now on); return the new ones."""
    return _add(list_path(lexicon_dir, "protect"), names)


def user_entries(lexicon_dir: Path | None = None) -> frozenset[tuple[str, str]]:
    """Every ``(list, word)`` of the user lists, ``list`` being ``accept`` or ``protect``.

    Kept from one run to the next, the symmetric difference of two of these is the set of
    words whose treatment changed (added, removed or moved between lists).
    """
    return frozenset(
        (name, word)
        for name in ("accept", "protect")
        for word in list_words(list_path(lexicon_dir, name))
    )


def unformula(cell: str) -> str:
    """Undo the ``'`` that keeps a spreadsheet from reading a cell as a formula."""
    if cell.startswith("'") and cell[1:].startswith(FORMULA_START):
        return cell[1:]
    return cell


def read_decisions(csv_path: Path) -> list[tuple[int, str, str, str]]:
    """``(row number, original, replacement, decision)`` of every row of a decisions file."""
    try:
        data = csv_path.read_bytes()
    except OSError as error:
        raise UnreadableFile(f"cannot read it: {error.strerror}", csv_path) from error
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Spreadsheets on Windows save "CSV" in the ANSI code page.
        text = data.decode("cp1252", errors="replace")
    header = text.split("\n", 1)[0]
    # Swedish-locale spreadsheets save with semicolons.
    delimiter = max((";", ",", "\t"), key=header.count)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    fields = {(name or "").strip().lower() for name in reader.fieldnames or ()}
    missing = [name for name in ("original", "replacement", "decision") if name not in fields]
    if missing:
        raise TeachError(f"{csv_path}: no column {', '.join(missing)} (expected {DECISION_FIELDS})")
    rows = []
    for number, row in enumerate(reader, start=2):
        cells = {(key or "").strip().lower(): (value or "") for key, value in row.items()}
        decision = cells["decision"].strip().lower()
        if decision not in ("", ACCEPT, REJECT):
            raise TeachError(
                f"{csv_path}, row {number}: decision {cells['decision']!r} is neither "
                f"{ACCEPT!r} nor {REJECT!r} (leave it empty to decide later)"
            )
        original = unformula(cells["original"].strip())
        replacement = unformula(cells["replacement"].strip())
        rows.append((number, original, replacement, decision))
    return rows


def apply_decisions(
    csv_path: Path,
    lexicon_dir: Path | None = None,
    *,
    is_word: Callable[[str], bool] | None = None,
) -> Taught:
    """Teach the lexicon the decisions of a review's decisions CSV (see the module's doc).

    ``is_word`` says which replacement words the lexicon already knows (default: the
    lexicon of ``lexicon_dir``, loaded); those are not added to ``accept.txt``.
    """
    rows = read_decisions(csv_path)
    to_protect: list[str] = []
    to_accept: list[str] = []
    for number, original, replacement, decision in rows:
        if decision == REJECT:
            if not entry_words(original):
                raise TeachError(f"{csv_path}, row {number}: nothing to protect")
            to_protect.append(original)
        elif decision == ACCEPT:
            kept = not replacement or replacement == original
            words = entry_words(original if kept else replacement)
            if not words:
                raise TeachError(f"{csv_path}, row {number}: nothing to accept")
            to_accept.extend(words)
    if to_accept:
        known = is_word or load(lexicon_dir).is_word
        to_accept = [word for word in to_accept if not known(word)]
    decided = sum(1 for *_, decision in rows if decision)
    return Taught(
        accepted=accept(to_accept, lexicon_dir),
        protected=protect(to_protect, lexicon_dir),
        decided=decided,
        undecided=len(rows) - decided,
    )


def affected(words: Iterable[str], *texts: str) -> bool:
    """Whether a change to the user lists touching ``words`` can alter the normalisation of a
    document with these texts (pass its extracted text and its last cleaned text).

    Conservative: a document is affected when a word's :func:`fold` occurs anywhere in a
    folded text (the word itself, any spelling of its diacritics, inside a compound or a
    merged word, across a line-end hyphen) or is within reach of OCR damage of one of its
    words: two edits, or one per four letters of a longer word (the corrector's confusions
    replace at most two letters by one, its fuzzy match makes one edit). Only a word more
    damaged than that could be normalised differently in a document reported unaffected.

    >>> affected(["Söderberg"], "Talade: Soderberg, FMN")
    True
    >>> affected(["Kvarnby"], "Kvarn-\\nbyskolan")
    True
    >>> affected(["Kvarnbyskolan"], "Kvarnbysko1an")
    True
    >>> affected(["Kvarnbyskolan"], "Protokoll fört vid mötet")
    False
    """
    reach = Reach(*texts)
    return any(reach.touches(word) for entry in words for word in entry_words(entry))


class Reach:
    """The texts of one document, folded once, to ask of many words whether they are
    :func:`affected`: what a batch does for every user-list word and every document."""

    def __init__(self, *texts: str) -> None:
        folded = [fold(text) for text in texts]
        self._texts = folded + [_LINE_HYPHEN.sub("", text) for text in folded]
        self._tokens: list[str] | None = None

    def touches(self, word: str) -> bool:
        """Whether a change to the user lists touching ``word`` can alter the reading."""
        key = fold(word)
        if not key or any(key in text for text in self._texts):
            return bool(key)
        if len(key) < _FUZZY_MIN_LEN:
            return False
        if self._tokens is None:
            self._tokens = sorted({t for text in self._texts for t in _WORD_TOKEN.findall(text)})
        cutoff = max(2, len(key) // 4)
        match = process.extractOne(
            key, self._tokens, scorer=Levenshtein.distance, score_cutoff=cutoff
        )
        return match is not None
