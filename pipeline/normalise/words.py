"""Word stage: undo OCR damage and restore lost diacritics, word by word.

A noisy-channel corrector. For each token the candidates are lexicon words
reachable from what was written through

* glyph confusions from ``lexicons/confusions.tsv`` (``é`` for ``ö``, ``&`` for
  ``ä``, ``|`` for ``l`` …), each costing the log of its probability;
* lost diacritics (``pa`` for ``på``), costing ``log p_strip`` per letter, where
  ``p_strip`` is estimated for each document from its own words, so a text
  that kept its diacritics is hardly touched while a stripped one is restored;
* merged words (``Vibehover`` → ``Vi behöver``), compounds no word list holds
  whole (``Klarspraksgruppen`` → ``Klarspråksgruppen``, restored part by part),
  and, as a last resort, a single edit found with rapidfuzz.

Each candidate is scored by its frequency, its fit to the neighbouring words
(the context model, when one is given) and the channel cost; keeping the
token as written is always a candidate. The winner's share of the
probability mass is the change's confidence.

The stage keeps the line structure: a word broken by a line-end hyphen is
joined on the first line, so lines still match the extracted text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Protocol

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from pipeline.normalise.lexicon import Lexicon, fold
from pipeline.records import Change

STAGE = "words"


class Context(Protocol):
    """What the word stage needs from a context model (see ``context.py``)."""

    def logprob(
        self, word: str, left: str | None, right: str | None, left2: str | None = None
    ) -> float: ...

    def ambiguous(self, folded: str) -> bool: ...


@dataclass(frozen=True)
class Confusions:
    """The OCR channel: for each observed glyph string, the letters it may stand for."""

    table: dict[str, tuple[tuple[str, float], ...]]
    """observed → ((intended, log probability), …)"""

    @classmethod
    def load(cls, path: Path) -> Confusions:
        table: dict[str, list[tuple[str, float]]] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip() or line.startswith("#") or line.startswith("observed\t"):
                continue
            observed, intended, probability = line.split("\t")[:3]
            table.setdefault(observed, []).append((intended, math.log(float(probability))))
        return cls({k: tuple(sorted(v, key=lambda x: -x[1])) for k, v in table.items()})

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        keys = sorted(self.table, key=len, reverse=True)
        return re.compile("|".join(re.escape(k) for k in keys))

    @cached_property
    def glyphs(self) -> frozenset[str]:
        """Characters that never occur in a clean Swedish word but do in OCR damage."""
        return frozenset(ch for key in self.table for ch in key if not ch.isalpha()) | {
            "é",
            "ó",
            "á",
            "à",
        }


@dataclass(frozen=True)
class Settings:
    """Tunable constants of the scorer (log probabilities unless said otherwise)."""

    threshold: float = 0.5
    """Minimum confidence for a change to be applied; weaker ones are proposed."""
    real_word_threshold: float = 0.8
    """… and for replacing a word that is itself a word (``har`` → ``här``)."""
    unknown: float = math.log(1e-8)
    """Score of keeping a word the lexicon does not know."""
    unknown_name: float = math.log(3e-8)
    """… when it is capitalised inside a sentence: most likely a name."""
    merge: float = math.log(1e-2)
    """Cost of a lost space between two words."""
    merge_head_freq: float = 1e-4
    """A merged word's first part must be at least this frequent (vi, det, på …)."""
    compound: float = math.log(0.1)
    function_word: float = 1e-3
    """Words this frequent (en, och, på) are glued-on neighbours, not compound heads …"""
    function_head: float = math.log(1e-3)
    """… so a compound reading headed by one costs this much more."""
    """Chance that a word is a compound the lexicon does not hold whole, times its last
    part's frequency, is the prior of such a compound."""
    fuzzy: float = math.log(1e-3)
    """Cost of the one free edit of the last-resort fuzzy match."""
    fuzzy_min_freq: float = 1e-6
    added_diacritic: float = math.log(1e-4)
    """Cost of a diacritic the candidate lacks but the text has."""
    max_expansions: int = 256
    valid_floor: float = 1e-7
    """Frequency of a valid word wordfreq does not list (above ``unknown``)."""
    garbled: float = math.log(1e-3)
    """Extra cost of keeping an unknown word that holds OCR glyphs (``fér``, ``l6s``)."""
    rare_word: float = 1e-6
    """Valid words rarer than this may be OCR misreadings of commoner ones …"""
    glyph_damage_min: float = 0.003
    """… in a document where at least this share of words shows glyph damage."""


@dataclass
class _Candidate:
    text: str
    score: float
    """Channel log-probability while generating; the total score once ranked."""
    prior: float | None = None
    """Fixed log prior for words the lexicon has no frequency for (compounds)."""


@dataclass
class Memo:
    """What the word stage learned about words it has seen, reusable across documents.

    Candidates depend on the document only through its damage rates, so
    documents whose rates fall in the same band share one memo.
    """

    candidates: dict[str, list[_Candidate] | None] = field(default_factory=dict)
    ranked: dict[tuple[str, bool, bool], list[_Candidate]] = field(default_factory=dict)
    contextual: dict[str, bool] = field(default_factory=dict)


STRIP_LEVELS = (1e-5, 0.01, 0.03, 0.1, 0.25, 0.5, 0.75, 0.9, 0.98)
"""The bands a document's estimated diacritic loss is rounded to."""


@dataclass
class WordFixer:
    """Corrects the words of one document; build one per document."""

    lexicon: Lexicon
    confusions: Confusions
    context: Context | None = None
    settings: Settings = field(default_factory=Settings)
    protected: frozenset[str] = frozenset()
    """Words never changed (the user lexicon's and the caller's)."""
    names: frozenset[str] = frozenset()
    """Names from the document's attendee lines: they may only regain lost diacritics."""
    learned: Mapping[str, tuple[tuple[str, float], ...]] = field(default_factory=dict)
    """Words the batch's clean documents use, by folded spelling (see :func:`learn_words`)."""
    p_strip: float = 0.5
    """Share of diacritics the document lost (see :func:`estimate_strip_rate`)."""
    p_glyph: float = 0.0
    """Share of the document's words with OCR glyph damage (see :func:`estimate_glyph_rate`)."""

    memo: Memo | None = None
    """Caches shared by documents with the same damage rates (see :class:`Memo`)."""

    def __post_init__(self) -> None:
        self._log_strip = math.log(self.p_strip)
        memo = self.memo or Memo()
        self._cache = memo.candidates
        self._ranked = memo.ranked
        self._context_memo = memo.contextual

    # --- the document -----------------------------------------------------

    def fix_text(self, text: str) -> tuple[str, list[Change]]:
        """Correct every line; return the new text and the changes (applied or proposed)."""
        lines = text.split("\n")
        changes: list[Change] = []
        flat = list(_tokens(lines))
        # Words whose reading depends on their neighbours go last, so that they
        # see their neighbours already corrected (``bor stélla`` -> ``bör ställa``).
        words = [i for i, token in enumerate(flat) if token.core and token.kind == "word"]
        contextual = [i for i in words if self._contextual(flat[i].core)]
        deferred = set(contextual)
        for index in [i for i in words if i not in deferred] + contextual:
            self._fix_token(flat, index, changes)
        changes.sort(key=lambda c: (c.line, c.column))
        by_line = _by_line(flat, len(lines))
        new_lines = [_render(line, original) for line, original in zip(by_line, lines, strict=True)]
        return "\n".join(new_lines), changes

    def _contextual(self, word: str) -> bool:
        """Whether the reading of ``word`` may depend on its neighbours (``ar``, ``&r``)."""
        if self.context is None:
            return False
        known = self._context_memo.get(word)
        if known is None:
            known = self.context.ambiguous(fold(word)) or any(
                self.context.ambiguous(fold(c.text)) for c in self._candidates(word) or ()
            )
            self._context_memo[word] = known
        return known

    def _fix_token(self, flat: list[_Token], index: int, changes: list[Change]) -> None:
        token = flat[index]
        core = token.core
        compound = "-" in core or "/" in core
        if not compound and self._cache.get(core, False) is None:
            return  # the fast path: nothing else this word could be (its parts may be)
        left = _neighbour(flat, index, -1)
        sentence_start = left is None or token.after_boundary
        # Only words the context model weighs need more of their neighbours.
        if compound or self._contextual(core):
            left2 = _neighbour(flat, index, -2) if left is not None else None
            right = _neighbour(flat, index, +1)
        else:
            left2 = right = None
        if not compound:
            new = self._fix_piece(
                core,
                token.line,
                token.column,
                changes,
                left=left,
                right=right,
                left2=left2,
                sentence_start=sentence_start,
            )
            if new != core:
                flat[index] = token.replace(new)
            return
        # Hyphenated and slashed forms are corrected part by part: e-tjänsten,
        # sms-påminnelse, volontärcenter/kontaktcenter.
        pieces = _PIECES.split(core)
        column = token.column
        fixed: list[str] = []
        for number, piece in enumerate(pieces):
            if number % 2 or not piece:
                fixed.append(piece)
            else:
                fixed.append(
                    self._fix_piece(
                        piece,
                        token.line,
                        column,
                        changes,
                        left=left if number == 0 else None,
                        right=right if number == len(pieces) - 1 else None,
                        left2=left2 if number == 0 else None,
                        sentence_start=sentence_start and number == 0,
                    )
                )
            column += len(piece)
        new = "".join(fixed)
        if new != token.core:
            flat[index] = token.replace(new)

    def _fix_piece(
        self,
        piece: str,
        line: int,
        column: int,
        changes: list[Change],
        *,
        left: str | None,
        right: str | None,
        left2: str | None,
        sentence_start: bool,
    ) -> str:
        if self._cache.get(piece, False) is None:
            return piece  # the fast path: nothing else this word could be
        if _classify(piece) != "word":
            return piece
        # Only words the context model weighs depend on their neighbours.
        if self._contextual(piece):
            ranked = self.rank(
                piece, left=left, right=right, left2=left2, sentence_start=sentence_start
            )
        else:
            key = (piece, sentence_start, piece in self.names or piece in self.protected)
            if key not in self._ranked:
                self._ranked[key] = self.rank(piece, sentence_start=sentence_start)
            ranked = self._ranked[key]
        if not ranked or ranked[0].text == piece:
            return piece
        total = sum(math.exp(c.score - ranked[0].score) for c in ranked)
        confidence = 1.0 / total
        best = ranked[0].text
        # Replacing one real word by another (har -> här) needs more certainty
        # than repairing a non-word: a wrong guess there damages right text.
        real_word = self.lexicon.is_word(piece) or self.lexicon.is_word(piece.lower())
        needed = max(self.settings.threshold, self.settings.real_word_threshold * real_word)
        applied = confidence >= needed
        alternatives = tuple(
            (c.text, round(math.exp(c.score - ranked[0].score) / total, 4)) for c in ranked[1:4]
        )
        changes.append(
            Change(
                stage=STAGE,
                line=line + 1,
                column=column + 1,
                original=piece,
                replacement=best,
                confidence=round(confidence, 4),
                applied=applied,
                alternatives=alternatives,
            )
        )
        return best if applied else piece

    # --- one word ---------------------------------------------------------

    def rank(
        self,
        word: str,
        *,
        left: str | None = None,
        right: str | None = None,
        left2: str | None = None,
        sentence_start: bool = True,
    ) -> list[_Candidate]:
        """Candidates for ``word`` in this context, best first (``word`` itself among them)."""
        if word in self.protected or word.lower() in self.protected:
            return []
        lower = word.lower()
        garbled = self._garbled(word)
        name = word in self.names
        name_like = name or (
            word[:1].isupper() and not sentence_start and not word.isupper() and not garbled
        )
        candidates = self._candidates(word)
        if candidates is None:
            return []
        scored: dict[str, float] = {}
        valid = self.lexicon.is_word(word) or self.lexicon.is_word(lower)
        keep = self.settings.unknown_name if name_like else self.settings.unknown
        if garbled:
            keep += self.settings.garbled
        for candidate in candidates:
            text = candidate.text
            same_letters = fold(text) == fold(lower)
            if name and not (same_letters and (_is_proper(text) or self.p_strip > 0.5)):
                # A name from the attendee list only gets its diacritics back: as a
                # name the lexicon knows, or any word in a text that lost them all.
                continue
            if (
                name_like
                and not valid
                and not _is_proper(text)
                and not same_letters
                and candidate.prior is None
            ):
                # A capitalised unknown word inside a sentence is most likely a
                # name: beyond lost diacritics, only proper nouns and compounds
                # may replace it.
                continue
            prior = candidate.prior
            if prior is None:
                prior = self._lm(text, left, right, left2)
            score = candidate.score + prior
            scored[text] = max(score, scored.get(text, -math.inf))
        if valid:
            scored[lower] = max(scored.get(lower, -math.inf), self._lm(lower, left, right, left2))
        else:
            scored[lower] = max(scored.get(lower, -math.inf), keep)
        # Without the Swedish model Tesseract reads a dotted first letter as a
        # capital (Okat for ökat): inside a sentence of an OCR-damaged text such a
        # capital is not kept. In a text that only lost its diacritics it is a
        # name's (Angsgatan for Ängsgatan).
        misread_capital = (
            not sentence_start
            and word[:1] in "AO"
            and word[1:].islower()
            and self.p_glyph >= self.settings.glyph_damage_min
        )
        # Readings that print the same once given the word's case (östra, Östra) are one
        # reading: their probabilities add up, or each would look half as likely as it is.
        shown: dict[str, float] = {}
        for text, score in scored.items():
            if not (misread_capital and text[:1] in "åäö" and fold(text) == fold(lower)):
                text = _match_case(text, word)
            before = shown.get(text)
            shown[text] = score if before is None else _logaddexp(before, score)
        ranked = sorted(
            (_Candidate(text, score) for text, score in shown.items()),
            key=lambda c: (-c.score, c.text),
        )
        if ranked and ranked[0].text.lower() == lower:
            ranked[0] = _Candidate(word, ranked[0].score)
        return ranked

    def _lm(self, text: str, left: str | None, right: str | None, left2: str | None) -> float:
        """log P(text) with its group's share decided by context when a model is given."""
        parts = text.split(" ")
        if len(parts) > 1:
            return sum(self._unigram(p) for p in parts)
        folded = fold(text)
        if self.context is None or not self.context.ambiguous(folded):
            return self._unigram(text)
        group = self._variants(folded)
        group_freq = sum(f for _, f in group) or 1e-9
        scores = {v: self.context.logprob(v.lower(), left, right, left2) for v, _ in group}
        if text not in scores:
            return self._unigram(text)
        top = max(scores.values())
        norm = top + math.log(sum(math.exp(s - top) for s in scores.values()))
        return math.log(group_freq) + scores[text] - norm

    def _unigram(self, text: str) -> float:
        freq = self.lexicon.freq(text)
        if not freq and self.learned:
            freq = dict(self.learned.get(fold(text), ())).get(text, 0.0)
        if freq <= self.settings.valid_floor and self.lexicon.is_word(text):
            # Hunspell knows it, wordfreq never saw it: rare, but a word.
            return math.log(self.settings.valid_floor)
        return math.log(max(freq, 1e-12))

    def _variants(self, folded: str) -> tuple[tuple[str, float], ...]:
        """The lexicon's words with this folded spelling, plus the batch's own."""
        found = self.lexicon.variants(folded)
        extra = self.learned.get(folded)
        if not extra:
            return found
        known = {word for word, _ in found}
        merged = found + tuple((w, f) for w, f in extra if w not in known)
        return tuple(sorted(merged, key=lambda x: -x[1]))

    def _garbled(self, word: str) -> bool:
        """Holds a glyph no clean Swedish word has there (``fér``, ``l6sning``, ``&r``).

        A capital I opening an otherwise lower-case unknown word is a misread l
        (``Iamna``, ``Idngre``) far more often than a name.
        """
        if set(word[:-1]) & self.confusions.glyphs:
            return True
        return (
            len(word) > 2
            and word[0] == "I"
            and word[1:].islower()
            and not self.lexicon.is_word(word)
            and bool(self._candidates("l" + word[1:]))
        )

    def _candidates(self, written: str) -> list[_Candidate] | None:
        """Channel candidates (text, channel log-probability) for a word as written; cached."""
        if written in self._cache:
            return self._cache[written]
        result = self._generate(written)
        self._cache[written] = result
        return result

    def _generate(self, written: str) -> list[_Candidate] | None:
        lower = written.lower()
        if not any(ch.isalpha() for ch in lower):
            return None
        valid = self.lexicon.is_word(lower) or self.lexicon.is_word(written)
        # OCR also turns words into other, rarer words (frågan -> fradgan): in a
        # document with glyph damage, a rare word may be such a misreading.
        damaged_doc = self.p_glyph >= self.settings.glyph_damage_min
        real_word_error = valid and damaged_doc
        rare = self.lexicon.freq(lower) < self.settings.rare_word
        found: dict[str, _Candidate] = {}

        def add(text: str, score: float, prior: float | None = None) -> None:
            if text not in found or score > found[text].score:
                found[text] = _Candidate(text, score, prior)

        if valid and not real_word_error:
            expansions = [(lower, 0.0)]
        else:
            expansions = [(text.lower(), cost) for text, cost in self._expand(written)]
        for reading, cost in expansions:
            for variant, _freq in self._variants(fold(reading)):
                add(variant, cost + self._restore_cost(reading, variant))
        if valid and real_word_error and rare:
            for text, score in self._split_merged(lower):
                add(text, score)
        if valid:
            if len(found) <= 1:
                return None  # nothing else it could be: the fast path
            return list(found.values())
        direct = bool(found)
        for text, score in self._split_merged(lower):
            add(text, score)
        if not direct:  # a listed word beats any compound reading
            for text, score, prior in self._compound(expansions):
                add(text, score, prior)
        if not found:
            for text, score in self._fuzzy(lower):
                add(text, score)
        return list(found.values()) or None

    def _expand(self, written: str) -> list[tuple[str, float]]:
        """Readings of a word under the glyph confusions, cheapest first (itself included)."""
        spans = [(m.start(), m.end(), m.group()) for m in self.confusions.pattern.finditer(written)]
        results: list[tuple[str, float]] = [(written, 0.0)]
        for start, end, observed in reversed(spans):
            grown: list[tuple[str, float]] = []
            for text, cost in results:
                for intended, logp in self.confusions.table[observed]:
                    grown.append((text[:start] + intended + text[end:], cost + logp))
            results += grown
            if len(results) > self.settings.max_expansions:
                results.sort(key=lambda x: -x[1])
                del results[self.settings.max_expansions :]
        # Glyphs that are never part of a clean word must be explained away.
        clean = [r for r in results if not (set(r[0]) & self.confusions.glyphs)]
        return sorted(clean or results, key=lambda r: -r[1])

    def _restore_cost(self, written: str, variant: str) -> float:
        cost = 0.0
        for w, v in zip(written, variant.lower(), strict=False):
            if w != v:
                cost += self.settings.added_diacritic if w not in "aoeu" else self._log_strip
        return cost

    def _split_merged(self, lower: str) -> Iterator[tuple[str, float]]:
        """``vibehover`` → ``vi behöver``: a frequent short word glued to the next."""
        if len(lower) < 4:
            return
        for cut in range(1, min(len(lower) - 1, 6)):
            head, tail = lower[:cut], lower[cut:]
            heads = [
                (v, f) for v, f in self._variants(fold(head)) if f >= self.settings.merge_head_freq
            ]
            if not heads:
                continue
            tail_readings = [(tail, 0.0)] if self.lexicon.is_word(tail) else self._expand(tail)[:16]
            for reading, glyph_cost in tail_readings:
                tails = self._variants(fold(reading.lower()))
                if not tails:
                    continue
                hv, tv = heads[0][0], tails[0][0]
                cost = (
                    self.settings.merge
                    + glyph_cost
                    + self._restore_cost(head, hv)
                    + self._restore_cost(reading.lower(), tv)
                )
                yield f"{hv} {tv}", cost  # the scorer adds both words' frequencies
                break

    def _compound(
        self, expansions: Sequence[tuple[str, float]]
    ) -> Iterator[tuple[str, float, float]]:
        """Restore the parts of a compound no word list holds whole.

        Yields (text, channel cost, prior); the prior is the last part's frequency
        times the chance of an unlisted compound, so ``stadsmässa`` beats ``stadsmossa``.
        """
        for written, cost in expansions[:8]:
            if len(written) < 6 or not written.isalpha():
                continue
            parts = self.lexicon.split_compound(fold(written)) or self._loose_split(fold(written))
            if not parts:
                continue
            restored = []
            position = 0
            last_freq = 0.0
            for number, part in enumerate(parts, start=1):
                piece = written[position : position + len(part)]
                position += len(part)
                if number == len(parts):
                    options = [
                        (v, f) for v, f in self._variants(part) if self.lexicon.is_compound_end(v)
                    ] or list(self._variants(part))
                else:
                    options = list(self.lexicon.part_variants(part))
                # A part written with its diacritics keeps them.
                chosen = (
                    next((v, f) for v, f in options if v.lower() == piece)
                    if any(v.lower() == piece for v, _ in options)
                    and any(ch in "åäöé" for ch in piece)
                    else (options[0] if options else (piece, 0.0))
                )
                restored.append(chosen[0].lower())
                last_freq = chosen[1]
            text = "".join(restored)
            if fold(text) != fold(written):
                continue
            prior = self.settings.compound + math.log(max(last_freq, 1e-9))
            if self.lexicon.freq(restored[0]) >= self.settings.function_word:
                # "eninsamling" is "en insamling", not a compound headed by "en".
                prior += self.settings.function_head
            yield text, cost + self._restore_cost(written, text), prior

    def _loose_split(self, folded: str) -> tuple[str, ...]:
        """Two known words glued together, when Hunspell's compounding flags allow none.

        Swedish compounds far more freely than the dictionary's flags say
        (``kamrat`` + ``föreningen``); a linking ``s`` stays with the first part.
        """
        best: tuple[float, tuple[str, ...]] | None = None
        for cut in range(3, len(folded) - 2):
            head, tail = folded[:cut], folded[cut:]
            heads = self._variants(head) or (
                self._variants(head[:-1]) if head.endswith("s") and len(head) > 3 else ()
            )
            tails = self._variants(tail)
            if not heads or not tails or len(tail) < 4:
                continue
            if not self.lexicon.is_compound_end(tails[0][0]):
                continue
            score = math.log(heads[0][1]) + math.log(tails[0][1])
            if best is None or score > best[0]:
                best = (score, (head, tail))
        return best[1] if best is not None else ()

    def _fuzzy(self, lower: str) -> Iterator[tuple[str, float]]:
        """One edit away from a frequent word (``allmadnna`` → ``allmänna``)."""
        if len(lower) < 6 or not any(ch.isalpha() for ch in lower):
            return
        key = fold(lower)
        choices = [
            k
            for n in (len(key) - 1, len(key), len(key) + 1)
            for k in self.lexicon.frequent_keys(n, self.settings.fuzzy_min_freq)
        ]
        match = process.extractOne(key, choices, scorer=Levenshtein.distance, score_cutoff=1)
        if match is None:
            return
        found, _distance, _ = match
        for variant, _ in self._variants(found)[:1]:
            yield variant, self.settings.fuzzy

    # --- hyphenation ------------------------------------------------------

    def join_hyphenation(self, text: str) -> tuple[str, list[Change]]:
        """Join words broken at line ends (``upp-``/``rustningen``), across pages too.

        The whole word goes on the first line, so lines stay aligned with the
        source. Joined without the hyphen when the result is a word; with it
        when the first part is an acronym, a number or a single letter
        (``AMF-loppet``, ``e-tjänsten``) or only the parts are words.
        """
        lines = text.split("\n")
        changes: list[Change] = []
        page, page_start = 1, 0
        for i in range(len(lines)):
            if lines[i].startswith("\f"):
                page, page_start = page + lines[i].count("\f"), i
            if i + 1 >= len(lines):
                break
            match = _HYPHEN_END.search(lines[i])
            if match is None:
                continue
            following = i + 1
            if not lines[following].strip() and following + 1 < len(lines):
                following += 1  # OCR put a paragraph break inside the word (Kamratfore- / / ningen)
            nxt = _LINE_START.match(lines[following])
            if nxt is None:
                continue
            head, tail = match.group("head"), nxt.group("tail")
            last = head.rsplit("-", 1)[-1]
            if len(last) == 1 or last.isupper() or "-" in head:
                replacement = f"{head}-{tail}"  # a real hyphen: AMF-loppet, e-tjänsten
            elif self._acceptable(last + tail):
                replacement = head + tail
            elif self._acceptable(last) and self._acceptable(tail):
                replacement = f"{head}-{tail}"
            else:
                continue
            # Keep a page break that opens the next line where it is.
            lead = nxt.group("lead")
            breaks = "\f" * lead.count("\f")
            replacement_line = replacement + nxt.group("punct")
            lines[i] = lines[i][: match.start("head")] + replacement_line + match.group("after")
            lines[following] = breaks + lines[following][nxt.end() :].lstrip(" ")
            changes.append(
                Change(
                    stage="hyphenation",
                    page=page,
                    line=i - page_start + 1,
                    column=match.start("head") + 1 - (1 if lines[i].startswith("\f") else 0),
                    original=f"{head}- {tail}",
                    replacement=replacement,
                    confidence=1.0,
                )
            )
        return "\n".join(lines), changes

    def unglue(self, text: str) -> tuple[str, list[Change]]:
        """Part two words OCR glued with a dash or a full stop for the space between them.

        ``att-ordna``, ``inte-ha``: a compound never starts with a function word, while a
        real hyphenated word joins an acronym, letter or name to a noun (``AMF-dagen``).
        ``st6d.som``, ``av.de``: a function word after a full stop inside a token, which
        no abbreviation (``t.ex.``), address or file name ends in. Only in OCR-damaged
        text; the glue becomes a space, so columns stay where they were.
        """
        if self.p_glyph < self.settings.glyph_damage_min:
            return text, []
        lines = text.split("\n")
        changes: list[Change] = []
        for number, line in enumerate(lines):
            if "-" not in line and "." not in line:
                continue
            parted = line
            found = [*_DASH_GLUED.finditer(line), *_DOT_GLUED.finditer(line)]
            for match in sorted(found, key=lambda m: m.start()):
                head, tail = match.group("head", "tail")
                glue = line[match.end("head")]
                function_word = tail if glue == "." else head
                other = head if glue == "." else tail
                if (
                    self.lexicon.freq(function_word) < self.settings.function_word
                    or (glue == "." and tail.lower() in _TLDS)
                    or (glue == "-" and self.lexicon.is_word(f"{head}-{tail}"))
                    or not self._acceptable(other)
                ):
                    continue
                at = match.end("head")
                parted = parted[:at] + " " + parted[at + 1 :]
                changes.append(
                    Change(
                        stage="specks",
                        line=number + 1,
                        column=match.start() + 1,
                        original=match.group(),
                        replacement=f"{head} {tail}",
                        confidence=_GLUED_CONFIDENCE,
                        applied=True,
                    )
                )
            lines[number] = parted
        return "\n".join(lines), changes

    def _acceptable(self, word: str) -> bool:
        """A word, a compound of words, or one OCR/diacritic slip away from a word."""
        lower = word.lower()
        if self.lexicon.is_word(lower) or self.lexicon.split_compound(fold(lower)):
            return True
        return any(
            " " not in c.text and c.score > math.log(0.05) for c in self._candidates(lower) or ()
        )


_PIECES = re.compile(r"([-/])")
# Two words glued by a dash after a short word, or by a full stop before one.
_DASH_GLUED = re.compile(
    r"(?<![\w@/.:-])(?P<head>[a-zåäö]{1,5})-(?P<tail>[a-zåäö]{2,})(?![\w@/.-])"
)
_DOT_GLUED = re.compile(
    r"(?<![\w@/.:-])(?P<head>[^\W\d_][^\W_]{2,})\.(?P<tail>[a-zåäö]{1,4})(?=[\s,;:!?)]|$)"
)
_TLDS = frozenset({"se", "nu", "com", "org", "net", "eu", "io", "info", "dk", "no", "fi"})
_GLUED_CONFIDENCE = 0.9
"""Confidence of parting glued words: a sure repair, as rules go, but a guess."""
# The last token of a line: letters (and inner hyphens) ending in a hyphen.
_HYPHEN_END = re.compile(
    # Digits inside the word are OCR'd letters (ans6- / kan); the word starts with a letter.
    r"(?:^|(?<=[\s\"'(«„”]))(?P<head>[^\W\d_][^\W_]*(?:-[^\W\d_]+)*)-(?P<after>[ \t]*)$"
)
_LINE_START = re.compile(
    r"^(?P<lead>[\s\f]*)(?P<tail>[a-zåäöé][^\W\d_]*)(?P<punct>[.,;:!?)”\"]*)(?=\s|$)"
)


def estimate_strip_rate(text: str, lexicon: Lexicon) -> float:
    """Share of diacritics this document lost, estimated from its own words.

    Words with å, ä or ö that are right count as kept; unknown words that
    become known by restoring diacritics count as lost.
    """
    kept = lost = 0
    for word in _WORD.findall(text.lower()):
        evidence = _strip_evidence(lexicon, word)
        kept += evidence > 0
        lost += evidence < 0
    if kept >= 20 and lost <= 0.02 * (kept + lost):
        return STRIP_LEVELS[0]  # evidently intact: leave its real words alone
    rate = (lost + 0.5) / (kept + lost + 1.0)
    # A band, not the raw estimate: the estimate is rough, and documents in one
    # band share what was computed for their words.
    return min(STRIP_LEVELS, key=lambda level: abs(math.log(level) - math.log(rate)))


@lru_cache(maxsize=1 << 18)
def _strip_evidence(lexicon: Lexicon, word: str) -> int:
    """+1: a right word with å/ä/ö; -1: a non-word that is one with them; 0: neither."""
    if any(ch in "åäö" for ch in word):
        return 1 if lexicon.is_word(word) else 0
    if lexicon.is_word(word):
        return 0
    variants = lexicon.variants(fold(word))
    return -1 if variants and any(ch in "åäö" for ch in variants[0][0]) else 0


LEARNED_FREQ = 1e-5
"""Frequency given to a word the archive's clean documents use but the lexicon lacks."""


def learn_words(texts: Iterable[str], lexicon: Lexicon) -> dict[str, tuple[tuple[str, float], ...]]:
    """Words with diacritics that clean documents use and the lexicon lacks, by folded key.

    An archive's own minutes teach its names (``Sjöholm``) and terms, so that
    the same words are restored where another document lost their diacritics.
    """
    counts: dict[str, dict[str, int]] = {}
    for text in texts:
        for match in _WORD.finditer(text):
            word = match.group()
            if len(word) < 3 or not any(ch in "åäöéÅÄÖÉ" for ch in word):
                continue
            if lexicon.is_word(word):
                continue
            forms = counts.setdefault(fold(word), {})
            forms[word] = forms.get(word, 0) + 1
    return {
        key: tuple(
            (form, LEARNED_FREQ * count)
            for form, count in sorted(forms.items(), key=lambda x: (-x[1], x[0]))
        )
        for key, forms in counts.items()
    }


def estimate_glyph_rate(text: str, confusions: Confusions, lexicon: Lexicon) -> float:
    """Share of word-like tokens holding OCR glyphs inside them (``fér``, ``l6sning``)."""
    words = garbled = 0
    glyphs = confusions.glyphs
    for raw in text.split():
        token = raw.strip(".,;:!?()\"”'»«")
        if len(token) < 2 or sum(ch.isalpha() for ch in token) < 2:
            continue
        words += 1
        if not glyphs.isdisjoint(token[:-1]) and not token.isupper():
            garbled += not lexicon.is_word(token)
    return garbled / words if words else 0.0


_WORD = re.compile(r"[^\W\d_]+")


# --- tokens ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    line: int
    column: int
    prefix: str
    core: str
    suffix: str
    kind: str
    after_boundary: bool
    """The previous token ended a sentence (or this token opens a line after one)."""

    def replace(self, core: str) -> _Token:
        return _Token(
            self.line, self.column, self.prefix, core, self.suffix, self.kind, self.after_boundary
        )

    @property
    def text(self) -> str:
        return self.prefix + self.core + self.suffix


_SPLIT = re.compile(
    r"^(?P<prefix>[\"'“”‘’«»(\[{*_]*?)"
    r"(?P<core>[|\[]?[^\W_][\w&|\[\]'’/-]*?|[&|\[][\w&|\[]*?)?"
    r"(?P<suffix>[\"'“”‘’«»)\]}*_.,;:!?…]*)$"
)
_PROTECTED = re.compile(
    r"@|://|^www\.|\.(se|nu|com|org|net|eu|io|info|dk|no|fi)\b|^[\d\W]+$", re.IGNORECASE
)
_OCR_DIGITS = set("0461")
_OCR_CAPITALS = frozenset("AOI")


def _classify(core: str) -> str:
    if not core:
        return "none"
    if "-" in core or "/" in core:
        pieces = [p for p in _PIECES.split(core) if p not in {"", "-", "/"}]
        return "word" if any(_classify(p) == "word" for p in pieces) else "protected"
    if any(ch.isdigit() for ch in core):
        letters = sum(ch.isalpha() for ch in core)
        digits = {ch for ch in core if ch.isdigit()}
        if (
            letters >= 2
            and digits <= _OCR_DIGITS
            and not any(ch.isupper() and ch != "I" for ch in core[1:])
        ):
            return "word"  # l6sningar, S0k, I6sningar: digits read for letters
        return "protected"
    if core.isupper() and len(core) > 1:
        return "protected"  # acronym: RSMH, IFS
    inner = {ch for ch in core[1:] if ch.isupper()}
    if inner and not core.isupper() and not inner <= _OCR_CAPITALS:
        return "protected"  # SeaU, CurioCity, BankID (but gAller, tjAnst: misread ä)
    return "word"


@lru_cache(maxsize=1 << 18)
def _analyse(raw: str) -> tuple[str, str, str, str, bool]:
    """(prefix, core, suffix, kind, ends a sentence) of a whitespace token; memoised,
    as most tokens of a text are repeats."""
    if _PROTECTED.search(raw):
        return raw, "", "", "protected", raw.endswith((".", "!", "?"))
    split = _SPLIT.match(raw)
    if split is None or not split.group("core"):
        ends = raw in {"•", "◦", "-", "–", "—"} or raw[:1].isdigit()
        return raw, "", "", "other", ends or raw.endswith((".", "!", "?", ":"))
    suffix = split.group("suffix")
    core = split.group("core")
    return split.group("prefix"), core, suffix, _classify(core), suffix.endswith(_ENDS)


_ENDS = (".", "!", "?", ":")


def _logaddexp(a: float, b: float) -> float:
    """log(exp(a) + exp(b)), without overflow."""
    top = max(a, b)
    return top + math.log(math.exp(a - top) + math.exp(b - top))


def _tokens(lines: list[str]) -> Iterator[_Token]:
    boundary = True
    for number, line in enumerate(lines):
        if not line.strip():
            boundary = True
        for match in _NON_SPACE.finditer(line):
            prefix, core, suffix, kind, ends = _analyse(match.group())
            yield _Token(
                number,
                match.start() + len(prefix) * bool(core),
                prefix,
                core,
                suffix,
                kind,
                boundary,
            )
            boundary = ends


_NON_SPACE = re.compile(r"\S+")


def _by_line(tokens: list[_Token], count: int) -> list[list[_Token]]:
    lines: list[list[_Token]] = [[] for _ in range(count)]
    for token in tokens:
        lines[token.line].append(token)
    return lines


def _render(tokens: list[_Token], original: str) -> str:
    """Put the (possibly replaced) tokens back with the line's own spacing."""
    if not tokens:
        return original
    out: list[str] = []
    position = 0
    for match, token in zip(re.finditer(r"\S+", original), tokens, strict=True):
        out.append(original[position : match.start()])
        out.append(token.text)
        position = match.end()
    out.append(original[position:])
    return "".join(out)


def _neighbour(flat: list[_Token], index: int, step: int) -> str | None:
    """The neighbouring word for context, ``None`` across a sentence boundary."""
    j = index + step
    if not 0 <= j < len(flat):
        return None
    if step < 0 and flat[index].after_boundary and step == -1:
        return None
    token = flat[j]
    if step > 0 and flat[j].after_boundary:
        return None
    if token.kind == "protected":
        return "<num>" if token.prefix[:1].isdigit() else None
    return token.core.lower() or None


def _is_proper(text: str) -> bool:
    return text[:1].isupper()


def _match_case(candidate: str, original: str) -> str:
    if original[:1] in "I|[" and candidate[:1] not in "iI":
        return candidate  # the capital was a misread l (I6sningar -> lösningar)
    if original.isupper() and len(original) > 1:
        return candidate.upper()
    if original[:1].isupper():
        return candidate[:1].upper() + candidate[1:]
    return candidate
