"""Normalisation: damaged text in, correct modern Swedish out, with an audit trail.

The stages run in a fixed order; each keeps the line structure, so every
change is located by page, line and column in the extracted text:

1. ``encoding`` — mojibake repaired (ftfy plus the Swedish cases it misses),
   DOS letters read as cp1252 repaired, Unicode composed (NFC).
2. ``bullets`` — OCR'd list bullets (``e``/``o`` at line start) made ``•``/``◦``;
   ``specks`` — in OCR'd text, lone marks of dust between words (``|``, ``~``) dropped.
3. ``hyphenation`` — a word broken at a line end joined where the joined word
   is a word (``upp-``/``rustningen``); real hyphens kept (``AMF-loppet``).
4. ``words`` — OCR glyph confusions, lost diacritics and merged words, decided
   with the lexicon, the OCR confusion table and the context (``words.py``).

Never changed: URLs, e-mail addresses, numbers, dates and times, acronyms,
names from the document's attendee lines, and words the user lexicon
protects.

>>> normalize("Vi ses pÃ¥ mÃ¶tet.").text
'Vi ses på mötet.'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

from pipeline.normalise import fixes
from pipeline.normalise.audit import diff_changes
from pipeline.normalise.context import ContextModel, load_context
from pipeline.normalise.lexicon import Lexicon, load
from pipeline.normalise.words import (
    Confusions,
    Memo,
    Settings,
    WordFixer,
    estimate_glyph_rate,
    estimate_strip_rate,
    learn_words,
)
from pipeline.records import Change, Normalized

__all__ = ["Normalized", "Normalizer", "fix_encoding_stage", "normalize"]

ENCODING_FIXES: tuple[Callable[[str], str], ...] = (
    fixes.fix_encoding,
    fixes.fix_dos_letters,
    fixes.normalize_unicode,
)

_ATTENDEE = re.compile(
    r"^[ \t]*(?:[-•*◦][ \t]+)?(?P<name>[A-ZÅÄÖÉ][\w'’-]+(?:[ \t]+[A-ZÅÄÖÉ][\w'’-]+){1,3})"
    r"[ \t]*(?:,|\(|[ \t]*$)",
    re.MULTILINE,
)


def fix_encoding_stage(text: str) -> tuple[str, list[Change]]:
    """Only the encoding repairs: what ftfy would do, plus the Swedish cases."""
    fixed = text
    for fix in ENCODING_FIXES:
        fixed = fix(fixed)
    return fixed, diff_changes("encoding", text, fixed)


def attendee_names(text: str) -> frozenset[str]:
    """Words of people's names on attendee-style lines (``Karin Lund, FMN``).

    >>> sorted(attendee_names("Närvarande\\nKarin Lund, FMN\\nBo Ek (antecknar)\\n"))
    ['Bo', 'Ek', 'Karin', 'Lund']
    """
    names: set[str] = set()
    for match in _ATTENDEE.finditer(text):
        line_end = text.find("\n", match.end())
        line = text[match.start() : line_end if line_end >= 0 else len(text)]
        if len(line) > 90:  # a sentence that starts with two capitalised words
            continue
        names.update(match.group("name").split())
    return frozenset(names)


@dataclass
class Normalizer:
    """A loaded lexicon, confusion table and context model, reused across documents.

    Loading takes a moment; build one per process and call it per document.
    """

    lexicon: Lexicon
    confusions: Confusions
    context: ContextModel | None = None
    settings: Settings = field(default_factory=Settings)
    learned: dict[str, tuple[tuple[str, float], ...]] = field(default_factory=dict)
    _memos: dict[tuple[float, bool, float], Memo] = field(default_factory=dict, repr=False)

    @classmethod
    def load(
        cls,
        lexicon_dir: Path | None = None,
        *,
        use_context: bool = True,
        settings: Settings | None = None,
    ) -> Normalizer:
        lexicon = load(lexicon_dir)
        directory = lexicon_dir or _default_lexicon_dir()
        confusions = Confusions.load(directory / "confusions.tsv")
        context = load_context() if use_context else None
        return cls(lexicon, confusions, context, settings or Settings())

    def learn(self, clean_texts: Iterable[str]) -> None:
        """Take the archive's own clean documents as evidence of its words and phrasing."""
        texts = list(clean_texts)
        if self.context is not None:
            for text in texts:
                self.context.learn(text)
        self._memos.clear()  # what was computed before the lesson may change
        for key, forms in learn_words(texts, self.lexicon).items():
            merged = dict(self.learned.get(key, ()))
            for form, freq in forms:
                merged[form] = merged.get(form, 0.0) + freq
            self.learned[key] = tuple(sorted(merged.items(), key=lambda x: -x[1]))

    def __call__(
        self,
        text: str,
        *,
        protect: Iterable[str] = (),
        threshold: float | None = None,
        ocr: bool | None = None,
    ) -> Normalized:
        """Normalise one document (pages separated by form feeds).

        ``ocr`` says whether the text came from OCR (stray specks are then
        removed); ``None`` judges it from the text's glyph damage.
        """
        settings = (
            self.settings if threshold is None else replace(self.settings, threshold=threshold)
        )
        encoded, encoding_changes = _per_page(text, fix_encoding_stage)
        bulleted, bullet_changes = _per_page(
            encoded, lambda page: _diffed("bullets", page, fixes.fix_bullets(page))
        )
        p_glyph = estimate_glyph_rate(bulleted, self.confusions, self.lexicon)
        if ocr or (ocr is None and p_glyph >= settings.glyph_damage_min):
            bulleted, speck_changes = _per_page(
                bulleted, lambda page: _diffed("specks", page, fixes.remove_specks(page))
            )
            bullet_changes += speck_changes
        protected = frozenset(protect) | self.lexicon.protected
        p_strip = estimate_strip_rate(bulleted, self.lexicon)
        damaged = p_glyph >= settings.glyph_damage_min
        memo = self._memos.setdefault((p_strip, damaged, settings.threshold), Memo())
        fixer = WordFixer(
            lexicon=self.lexicon,
            confusions=self.confusions,
            context=self.context,
            settings=settings,
            protected=protected,
            names=attendee_names(bulleted),
            learned=self.learned,
            p_strip=p_strip,
            p_glyph=p_glyph,
            memo=memo,
        )
        joined, hyphen_changes = fixer.join_hyphenation(bulleted)
        parted, glue_changes = _per_page(joined, fixer.unglue)
        fixed, word_changes = _per_page(parted, fixer.fix_text)
        return Normalized(
            text=fixed,
            changes=tuple(
                encoding_changes + bullet_changes + hyphen_changes + glue_changes + word_changes
            ),
        )


def _diffed(stage: str, before: str, after: str) -> tuple[str, list[Change]]:
    return after, diff_changes(stage, before, after)


def _per_page(
    text: str, stage: Callable[[str], tuple[str, list[Change]]]
) -> tuple[str, list[Change]]:
    """Run a stage page by page so every change knows its page."""
    pages: list[str] = []
    changes: list[Change] = []
    for number, page in enumerate(text.split("\f"), start=1):
        fixed, found = stage(page)
        pages.append(fixed)
        changes += [replace(c, page=number) for c in found]
    return "\f".join(pages), changes


def _default_lexicon_dir() -> Path:
    from pipeline.normalise.lexicon import default_lexicon_dir

    return default_lexicon_dir()


@cache
def default_normalizer() -> Normalizer:
    """The normaliser with the installed lexicons, loaded once per process."""
    return Normalizer.load()


def normalize(
    text: str,
    *,
    protect: Sequence[str] = (),
    threshold: float | None = None,
    ocr: bool | None = None,
    normalizer: Normalizer | None = None,
) -> Normalized:
    """Normalise ``text``; return the new text and every change made or proposed.

    ``protect`` lists words never to change besides the user lexicon's;
    changes whose confidence is below ``threshold`` are proposed, not applied.
    """
    return (normalizer or default_normalizer())(text, protect=protect, threshold=threshold, ocr=ocr)
