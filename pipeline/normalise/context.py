"""Context model: which real spelling a diacritic-free word stands for here.

When OCR loses diacritics, ``ar`` may be ``är``, ``år`` or ``ar`` and ``vara`` may be
``vara`` or ``våra``. The model scores each real spelling by its neighbours' *folded*
forms (they are damaged too), from counts taken over running Swedish text that Debian
installs: the LibreOffice and GNOME help and the book *Copyright finns inte* (see
``lexicons/context/README.md``). A general-Swedish unigram prior from
wordfreq keeps software-help phrasing from dominating.

Only words whose fold group is ambiguous get context counts: ``(fold(left), word)``,
``(word, fold(right))``, ``(fold(left2) fold(left), word)`` and, for back-off, the
neighbour's last three letters in place of the neighbour. Each level's lift over the
word's corpus share is smoothed towards the level below; left and right combine as
independent evidence (naive Bayes) on top of the prior.

Rebuild by hand with ``python -m pipeline.normalise.context build``.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import importlib.metadata
import marshal
import math
import os
import re
import sys
import time
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline._filelock import FileLock
from pipeline.normalise.lexicon import default_cache_dir, fold

__all__ = [
    "DEFAULT_SOURCES",
    "ContextModel",
    "Params",
    "build_context",
    "evaluate",
    "fold",
    "load_context",
]

_BUILD_VERSION = "3"  # bump whenever the counting rules or the cache layout change
_CACHE_PREFIX = "context-"
_CACHE_SUFFIX = ".marshal"

DEFAULT_SOURCES: tuple[Path, ...] = (
    # Our own minutes-register text, rich in the rarer readings (bor, sa, far,
    # våra) that software help and books hardly use; CC0.
    Path(__file__).resolve().parents[2] / "lexicons" / "context",
    Path("/usr/share/libreoffice/help/sv/text"),  # libreoffice-help-sv, MPL-2.0
    Path("/usr/share/doc/cfi-sv/cfi.html"),  # cfi-sv, public domain
    Path("/usr/share/help/sv/gnome-help"),  # gnome-user-docs, CC-BY-SA-3.0
    Path("/usr/share/help/sv/system-admin-guide"),  # gnome-user-docs, CC-BY-SA-3.0
)
"""Swedish running text from Debian packages; those installed are used.

Named package by package, not ``/usr/share/help/sv`` as a whole, so the model does
not depend on which other programs a machine happens to have. ``gimp-help-sv`` was
tried and left out: 72 MB for 43,000 Swedish words that changed no decision.
"""

BOUNDARY = "<s>"
"""Neighbour at a sentence boundary (start or end)."""
NUMBER = "<num>"
"""Any token with a digit: ``2 år``, ``år 2020``, ``§ 5``."""

WF_MEMBER = 1e-5
"""A spelling wordfreq lists at least this often joins its fold group as a real spelling."""
WF_FLOOR = 1e-8
"""Prior frequency of a spelling wordfreq does not list (about its rarest entry)."""

SUFFIX = 3
"""Letters of a neighbour's end that form its back-off class (``~ade``, ``~ing``)."""

_SOURCE_SUFFIXES = (".html", ".htm", ".xhtml", ".page", ".txt")
_MEMO_LIMIT = 50_000  # per cache: a few tens of MB at most
_CACHES = ("_keys", "_memo", "_lift_memo", "_info", "_by_fold")


@dataclass(frozen=True)
class Params:
    """Smoothing strengths (tuned on a dev split of the help text; see the README)."""

    kappa_left: float = 0.1
    """Pseudo-count pulling the lift of a left word towards that of its suffix class."""
    kappa_right: float = 0.05
    """The same for the right word."""
    kappa_tri: float = 1.0
    """Pseudo-count pulling the lift of two left words towards that of the nearer one."""
    kappa_suffix: float = 0.1
    """Pseudo-count pulling the lift of a suffix class towards 1 (no effect)."""
    mu_corpus: float = 1.0
    """Pseudo-count of the wordfreq prior in a spelling's share of the corpus."""
    mu_prior: float = 100.0
    """Pseudo-count of the wordfreq prior against learned (archive) counts in the prior."""


# --------------------------------------------------------------------------- text


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_TOKEN = re.compile(r"\w+(?:[-'’.,:/]\w+)*|[.!?:]")
_WORD_CHUNK = re.compile(r"\w+(?:[-'’.,:/]\w+)*")
_LINE_END = re.compile(r"[.!?:;]\W*$")
_LINE_START = re.compile(r"^\W*(?:[A-ZÅÄÖÉ0-9§•◦*–-])")


def sentences(block: str) -> Iterator[list[str]]:
    """Split one block of running text into sentences of lower-case tokens.

    A number becomes ``<num>``; a full stop or colon ends a sentence only before a
    capital or the end, so ``t.ex. en`` and ``kl. 18`` stay inside their sentence.

    >>> list(sentences("Det är 2 år sedan. Vi har t.ex. en ny styrelse!"))
    [['det', 'är', '<num>', 'år', 'sedan'], ['vi', 'har', 't.ex', 'en', 'ny', 'styrelse']]
    """
    tokens = _TOKEN.findall(block)
    current: list[str] = []
    for i, token in enumerate(tokens):
        if token in ".!?:":
            following = tokens[i + 1] if i + 1 < len(tokens) else ""
            if token in "!?" or not following or following[0].isupper():
                if current:
                    yield current
                current = []
            continue
        if any(ch.isdigit() or ch == "_" for ch in token):
            current.append(NUMBER)
        else:
            current.append(token.lower())
    if current:
        yield current


def text_blocks(text: str) -> Iterator[str]:
    """Blocks of running text in a plain document: paragraphs, headings, list items.

    A line break ends a block after sentence punctuation or before a capital, a
    digit or a bullet (a heading, a list item, a new paragraph); other line breaks
    are a sentence wrapped across lines.
    """
    block: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("# "):
            continue  # a comment, as in our own training text's header
        if not line:
            if block:
                yield " ".join(block)
            block = []
            continue
        if block and (_LINE_END.search(block[-1]) or _LINE_START.match(line)):
            yield " ".join(block)
            block = []
        if block and block[-1].endswith("-") and line[:1].islower():
            block[-1] = block[-1][:-1] + line  # a word hyphenated at the line end
        else:
            block.append(line)
    if block:
        yield " ".join(block)


# Elements whose text is not running Swedish prose: code, navigation, metadata.
_SKIPPED = re.compile(
    r"<(script|style|head|header|aside|nav|pre|code|screen|synopsis|programlisting|info"
    r"|credit|mal:credit)\b[^>]*>.*?</\1\s*>"
    r"|<(div|p|table)\b[^>]*\bclass=[\"']?(?:[^\"'>]*\s)?(?:navheader|navfooter|bascode|toc|debug)\b"
    r"[^>]*>.*?</\2\s*>"
    r"|<!--.*?-->|<!\[CDATA\[.*?\]\]>",
    re.DOTALL | re.IGNORECASE,
)
_TAG = re.compile(r"<(/?)([A-Za-z][\w:.-]*)[^>]*>|<[!?][^>]*>")
# Tags inside a sentence (HTML, DocBook and Mallard); any other tag ends a block.
_INLINE_TAGS = _words(
    "a abbr acronym app b big cite em emphasis file font gui guiseq guilabel guimenu"
    " guimenuitem i key keycap keyseq link literal q quote small span strong sub sup sys"
    " tt u var"
)


def _tag_break(match: re.Match[str]) -> str:
    name = match.group(2)
    return " " if name is not None and name.lower() in _INLINE_TAGS else "\0"


def html_blocks(markup: str) -> list[str]:
    """Text of an HTML, DocBook or Mallard page, one string per block element.

    >>> html_blocks("<h1>Rubrik</h1><p>Det <b>är</b> text.<script>x()</script></p>")
    ['Rubrik', 'Det är text.']
    """
    # A NUL marks a block end: the markup's own line breaks are only spacing.
    text = html.unescape(_TAG.sub(_tag_break, _SKIPPED.sub("\0", markup)))
    blocks = (" ".join(part.split()) for part in text.split("\0"))
    return [block for block in blocks if block]


_SWEDISH = _words(
    "och att som är för på med den det ett av till om du kan inte eller har från när ska"
    " vid de så sig efter under denna detta dessa alla vilken vill visas markera klicka"
    " välj här man bör måste också sedan"
)
_ENGLISH = _words(
    "the and of is to in you this that for with on are be it or by from as an will not"
    " which if at use page title"
)


def is_swedish(block: str) -> bool:
    """Whether a block of help text is Swedish: untranslated English strings are common.

    >>> is_swedish("Inserts a new row below the active cell."), is_swedish("Anpassa höjden")
    (False, True)
    """
    words = _WORD_CHUNK.findall(block.lower())
    swedish = sum(1 for w in words if w in _SWEDISH or any(c in w for c in "åäö"))
    english = sum(1 for w in words if w in _ENGLISH)
    return english == 0 or swedish > english


def _source_files(sources: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for source in sources:
        if source.is_file():
            files.append(source)
        elif source.is_dir():
            files.extend(
                sorted(p for p in source.rglob("*") if p.suffix in _SOURCE_SUFFIXES and p.is_file())
            )
    return files


def file_blocks(path: Path) -> list[str]:
    """The Swedish blocks of running text in one source file."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".txt":  # lines starting with "#" are the file's comments
        return list(text_blocks(re.sub(r"(?m)^#.*\n?", "", text)))
    return [block for block in html_blocks(text) if is_swedish(block)]


def corpus_sentences(sources: Iterable[Path]) -> list[tuple[str, ...]]:
    """Every distinct sentence of the sources, in order of first occurrence.

    The help repeats paragraphs across pages; counting each once keeps them from
    outweighing the rest and keeps the held-out split honest.
    """
    seen: dict[tuple[str, ...], None] = {}
    for path in _source_files(sources):
        for block in file_blocks(path):
            for sentence in sentences(block):
                seen.setdefault(tuple(sentence), None)
    return list(seen)


# --------------------------------------------------------------------------- counting


def _wordfreq_table() -> dict[str, float]:
    import wordfreq

    table: dict[str, float] = wordfreq.get_frequency_dict("sv", wordlist="large")
    return table


_NUMBER_WORDS = _words(
    "två tre fyra fem sex sju åtta nio tio elva tolv tretton fjorton femton sexton"
    " sjutton arton nitton tjugo trettio fyrtio femtio sextio sjuttio åttio nittio"
    " hundra tusen"
)
_NUMBER_KEYS = frozenset(fold(w) for w in _NUMBER_WORDS)


def _ctx(token: str) -> str:
    """The context key of a corpus token: folded word, ``<num>`` or ``<s>``.

    Number words count as numbers: ``tre år`` is evidence for ``5 år`` and back.
    """
    if token[0] == "<":
        return token
    key = fold(token)
    return NUMBER if key in _NUMBER_KEYS else key


def _suffix(key: str) -> str | None:
    """The back-off class of a neighbour: its last letters, which mark word class in Swedish.

    Short words (mostly function words) and ``<num>``/``<s>`` have rows of their own.
    """
    return "~" + key[-SUFFIX:] if len(key) > SUFFIX + 1 and key[0] != "<" else None


def _add_contexts(
    tables: tuple[dict[str, dict[str, dict[str, int]]], ...],
    sentence: Sequence[str],
    groups: dict[str, tuple[str, ...]],
    weight: int = 1,
) -> None:
    left, right, tri = tables
    padded = [BOUNDARY, *sentence, BOUNDARY]
    keys = [_ctx(t) for t in padded]
    for i in range(1, len(padded) - 1):
        word = padded[i]
        group = keys[i]
        if group not in groups:
            continue
        for table, key in ((left, keys[i - 1]), (right, keys[i + 1])):
            rows = table.setdefault(group, {})
            suffix = _suffix(key)
            for k in (key, suffix) if suffix else (key,):
                row = rows.setdefault(k, {})
                row[word] = row.get(word, 0) + weight
        if i >= 2:  # left2 is only ever a real token, never a boundary
            row = tri.setdefault(group, {}).setdefault(f"{keys[i - 2]} {keys[i - 1]}", {})
            row[word] = row.get(word, 0) + weight


def _groups(
    unigrams: dict[str, int], wordfreq: dict[str, float]
) -> tuple[dict[str, tuple[str, ...]], dict[str, float]]:
    """Fold groups with ≥ 2 real spellings, and the wordfreq prior of their spellings."""
    spellings: dict[str, set[str]] = {}
    for word in unigrams:
        if word[0] != "<" and word.isalpha():
            spellings.setdefault(fold(word), set()).add(word)
    for word, freq in wordfreq.items():
        if freq >= WF_MEMBER and word.isalpha():
            spellings.setdefault(fold(word), set()).add(word)
    groups = {
        key: tuple(sorted(words, key=lambda w: (-unigrams.get(w, 0), -wordfreq.get(w, 0.0), w)))
        for key, words in spellings.items()
        if len(words) >= 2
    }
    # The prior of every spelling the normaliser may ask about, listed or not.
    prior = {
        word: freq for word, freq in wordfreq.items() if word.isalpha() and fold(word) in groups
    }
    return groups, prior


def count(sentences_: Iterable[Sequence[str]], wordfreq: dict[str, float]) -> dict[str, Any]:
    """The plain dicts the cache stores, counted over ``sentences_``."""
    materialised = list(sentences_)
    unigrams: Counter[str] = Counter()
    for sentence in materialised:
        unigrams.update(t for t in sentence if t[0] != "<")
    groups, prior = _groups(dict(unigrams), wordfreq)
    left: dict[str, dict[str, dict[str, int]]] = {}
    right: dict[str, dict[str, dict[str, int]]] = {}
    tri: dict[str, dict[str, dict[str, int]]] = {}
    for sentence in materialised:
        _add_contexts((left, right, tri), sentence, groups)
    return {
        "unigrams": dict(unigrams),
        "groups": groups,
        "prior": prior,
        "left": left,
        "right": right,
        "tri": tri,
    }


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class _Group:
    """What scoring needs of one fold group, computed once (until the next ``learn``)."""

    members: tuple[str, ...]
    corpus_share: tuple[float, ...]
    log_prior: tuple[float, ...]
    unseen: float
    """log prior of a spelling the group does not list, less the log of its wordfreq."""


@dataclass(frozen=True)
class _Scored:
    logprobs: dict[str, float]
    unseen_offset: float
    """log P of a spelling the group does not list, less the log of its wordfreq prior."""


class ContextModel:
    """log P(spelling | folded neighbours) among the real spellings of one fold group."""

    def __init__(self, data: dict[str, Any], params: Params | None = None) -> None:
        self.params = params or Params()
        self._unigrams: dict[str, int] = data["unigrams"]
        self._groups: dict[str, tuple[str, ...]] = data["groups"]
        self._prior: dict[str, float] = data["prior"]
        self._left: dict[str, dict[str, dict[str, int]]] = data["left"]
        self._right: dict[str, dict[str, dict[str, int]]] = data["right"]
        self._tri: dict[str, dict[str, dict[str, int]]] = data["tri"]
        self._learned: dict[str, int] = {}
        self.stats: dict[str, Any] = dict(data.get("stats", {}))
        self.cache_path: Path | None = None
        self._reset_caches()

    def _reset_caches(self) -> None:
        self._keys: dict[str | None, str | None] = {None: BOUNDARY, NUMBER: NUMBER}
        self._memo: dict[tuple[str, str | None, str | None, str | None], _Scored] = {}
        self._lift_memo: dict[tuple[int, str, str | None, str | None], tuple[float, ...]] = {}
        self._info: dict[str, _Group] = {}
        self._by_fold: dict[str, set[str]] | None = None

    def __getstate__(self) -> dict[str, Any]:
        # Caches refill quickly and would only bloat the pickle sent to workers.
        return {k: v for k, v in self.__dict__.items() if k not in _CACHES}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._reset_caches()

    # ------------------------------------------------------------------ queries

    def ambiguous(self, folded: str) -> bool:
        """Whether the model knows at least two real spellings for this folded form."""
        return folded in self._groups

    def spellings(self, folded: str) -> tuple[str, ...]:
        """The real spellings of an ambiguous folded form, most frequent in the corpus first."""
        return self._groups.get(folded, ())

    def logprob(
        self, word: str, left: str | None, right: str | None, left2: str | None = None
    ) -> float:
        """log P(word | context) within its fold group; smoothed, never ``-inf``.

        ``word`` is a candidate in its real spelling; ``left``, ``right`` and ``left2``
        are the neighbouring tokens as seen (folded here), ``None`` at a sentence
        boundary; a ``left2`` of ``None`` only drops the two-word context. Candidates
        of one fold group share one normaliser, so they stay comparable even when the
        model has never seen one of them. A group the model does not find ambiguous
        gives 0.0 for every spelling: it has no preference there.
        """
        word = word.lower()
        group = fold(word)
        if group not in self._groups:
            return 0.0
        keys = self._keys
        lkey = keys[left] if left in keys else self._key(left)
        rkey = keys[right] if right in keys else self._key(right)
        l2key = None
        if left2 is not None and lkey is not None and lkey != BOUNDARY:
            l2key = keys[left2] if left2 in keys else self._key(left2)
            if l2key == BOUNDARY:
                l2key = None
        memo_key = (group, lkey, rkey, l2key)
        scored = self._memo.get(memo_key)
        if scored is None:
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            scored = self._memo[memo_key] = self._score(group, lkey, rkey, l2key)
        known = scored.logprobs.get(word)
        if known is not None:
            return known
        return math.log(self._prior.get(word, WF_FLOOR)) + scored.unseen_offset

    def predict(
        self, folded: str, left: str | None, right: str | None, left2: str | None = None
    ) -> str:
        """The most probable real spelling of ``folded`` here.

        For a form that is not ambiguous: its one known spelling, else ``folded`` itself.
        """
        members = self._groups.get(folded)
        if members:
            return max(members, key=lambda w: self.logprob(w, left, right, left2))
        known = self._spellings_by_fold().get(folded)
        return next(iter(known)) if known and len(known) == 1 else folded

    def _key(self, token: str | None) -> str | None:
        """The context key of a neighbour as seen; ``None`` when it tells nothing (``,``)."""
        if token is None:
            return BOUNDARY
        match = _WORD_CHUNK.search(token)
        if match is None:
            key = BOUNDARY if any(ch in ".!?" for ch in token) else None
        elif any(ch.isdigit() for ch in match.group()):
            key = NUMBER
        else:
            key = _ctx(match.group())
        if len(self._keys) < _MEMO_LIMIT:
            self._keys[token] = key
        return key

    def _score(self, group: str, left: str | None, right: str | None, left2: str | None) -> _Scored:
        """Scores of every spelling of ``group``, and the offset for one it does not list.

        score = log prior + log lift(left side) + log lift(right side), normalised over
        the group. The prior (wordfreq, updated by learned documents) says how common a
        spelling is, since software help is not minutes; the corpus says how much a
        context lifts a spelling over its corpus share (see :meth:`_lifts`).
        """
        info = self._info.get(group) or self._group_info(group)
        lefts = self._lifts(self._left, group, info, left, left2)
        rights = self._lifts(self._right, group, info, right, None)
        raw = [lp + math.log(a * b) for lp, a, b in zip(info.log_prior, lefts, rights, strict=True)]
        top = max(raw)
        log_z = top + math.log(sum(math.exp(s - top) for s in raw))
        # A spelling with no counts is expected nowhere, so no context lifts or lowers it.
        return _Scored(
            {w: s - log_z for w, s in zip(info.members, raw, strict=True)},
            info.unseen - log_z,
        )

    def _group_info(self, group: str) -> _Group:
        p = self.params
        members = self._groups[group]
        prior, unigrams, learned = self._prior, self._unigrams, self._learned
        mass = sum(prior.get(w, WF_FLOOR) for w in members)
        corpus_total = sum(unigrams.get(w, 0) for w in members) + p.mu_corpus
        learned_total = sum(learned.get(w, 0) for w in members) + p.mu_prior
        shares = [prior.get(w, WF_FLOOR) / mass for w in members]
        info = _Group(
            members,
            tuple(
                (unigrams.get(w, 0) + p.mu_corpus * share) / corpus_total
                for w, share in zip(members, shares, strict=True)
            ),
            tuple(
                math.log((learned.get(w, 0) + p.mu_prior * share) / learned_total or 1e-300)
                for w, share in zip(members, shares, strict=True)
            ),
            math.log(p.mu_prior / learned_total / mass) if p.mu_prior else -690.0,
        )
        self._info[group] = info
        return info

    def _lifts(
        self,
        table: dict[str, dict[str, dict[str, int]]],
        group: str,
        info: _Group,
        key: str | None,
        left2: str | None,
    ) -> tuple[float, ...]:
        """How much one side's context lifts each spelling over its corpus share.

        (observed + k·lift below) / (expected + k) at each level, from the neighbour's
        suffix class to the word to two words: the posterior mean of a Poisson rate with
        a Gamma prior centred on the level below. A rare spelling's expected count is
        tiny, so a context it was never seen in barely counts against it.
        """
        memo_key = (id(table), group, key, left2)
        lifts = self._lift_memo.get(memo_key)
        if lifts is not None:
            return lifts
        p = self.params
        found: list[tuple[dict[str, int], float]] = []
        rows = table.get(group)
        if rows and key is not None:
            suffix = _suffix(key)
            if suffix is not None and suffix in rows:
                found.append((rows[suffix], p.kappa_suffix))
            if key in rows:
                found.append((rows[key], p.kappa_left if table is self._left else p.kappa_right))
                tri = self._tri.get(group) if left2 is not None else None
                row = tri.get(f"{left2} {key}") if tri else None
                if row:
                    found.append((row, p.kappa_tri))
        values = [1.0] * len(info.members)
        for row, kappa in found:
            total = sum(row.values())
            values = [
                (row.get(w, 0) + kappa * lift) / (total * share + kappa)
                for w, share, lift in zip(info.members, info.corpus_share, values, strict=True)
            ]
        lifts = tuple(values)
        if len(self._lift_memo) >= _MEMO_LIMIT:
            self._lift_memo.clear()
        self._lift_memo[memo_key] = lifts
        return lifts

    # ------------------------------------------------------------------ learning

    def learn(self, text: str) -> None:
        """Add counts from a clean document (the archive's own minutes are evidence too).

        Its spellings also move the prior, so an archive that writes ``våra`` often
        gets ``våra`` more often where the context is silent.
        """
        found = [s for block in text_blocks(text) for s in sentences(block)]
        by_fold = self._spellings_by_fold()
        for sentence in found:
            for token in sentence:
                if token[0] == "<" or not token.isalpha():
                    continue
                self._unigrams[token] = self._unigrams.get(token, 0) + 1
                self._learned[token] = self._learned.get(token, 0) + 1
                key = fold(token)
                known = by_fold.setdefault(key, set())
                if token not in known:
                    known.add(token)
                    if len(known) >= 2:
                        self._groups[key] = tuple(
                            sorted(known, key=lambda w: (-self._unigrams.get(w, 0), w))
                        )
        for sentence in found:
            _add_contexts((self._left, self._right, self._tri), sentence, self._groups)
        self._reset_caches()
        self._by_fold = by_fold  # still right: it was updated above

    def _spellings_by_fold(self) -> dict[str, set[str]]:
        if self._by_fold is None:
            by_fold: dict[str, set[str]] = {}
            for word in self._unigrams:
                if word.isalpha():
                    by_fold.setdefault(fold(word), set()).add(word)
            for key, members in self._groups.items():
                by_fold.setdefault(key, set()).update(members)
            self._by_fold = by_fold
        return self._by_fold


# --------------------------------------------------------------------------- evaluation


@dataclass
class Tally:
    """Decisions on one fold group: how many, and how many each method got right."""

    tokens: int = 0
    model: int = 0
    baseline: int = 0

    def add(self, model: bool, baseline: bool) -> None:
        self.tokens += 1
        self.model += model
        self.baseline += baseline


def evaluate(model: ContextModel, held_out: Iterable[Sequence[str]]) -> dict[str, Tally]:
    """Restore every ambiguous token of ``held_out`` from its folded neighbours.

    Scored are the tokens whose group has at least two spellings in the model's own
    counts; the baseline always picks the group's most frequent spelling there. The
    ``"*"`` entry sums all groups.
    """
    tallies: dict[str, Tally] = {"*": Tally()}
    unigrams = model._unigrams
    for sentence in held_out:
        folded = [t if t[0] == "<" else fold(t) for t in sentence]
        for i, word in enumerate(sentence):
            members = [w for w in model.spellings(folded[i]) if unigrams.get(w, 0)]
            if len(members) < 2:
                continue
            left = folded[i - 1] if i else None
            right = folded[i + 1] if i + 1 < len(folded) else None
            left2 = folded[i - 2] if i >= 2 else None
            guess = model.predict(folded[i], left, right, left2)
            common = max(members, key=lambda w: unigrams.get(w, 0))
            tallies.setdefault(folded[i], Tally()).add(guess == word, common == word)
            tallies["*"].add(guess == word, common == word)
    return tallies


def split(corpus: Sequence[tuple[str, ...]], part: int) -> list[tuple[str, ...]]:
    """Part ``part`` (0-9) of a fixed ten-way split by sentence hash (0 is held out)."""
    return [s for s in corpus if zlib.crc32(" ".join(s).encode()) % 10 == part]


def without(corpus: Sequence[tuple[str, ...]], *parts: int) -> list[tuple[str, ...]]:
    """Every sentence not in the given parts of :func:`split`."""
    return [s for s in corpus if zlib.crc32(" ".join(s).encode()) % 10 not in parts]


# --------------------------------------------------------------------------- cache


def _wordfreq_version() -> str:
    try:
        return importlib.metadata.version("wordfreq")
    except importlib.metadata.PackageNotFoundError:
        return "none"


def _digest(files: Sequence[Path]) -> str:
    """A key over the build rules, wordfreq and every source file's path, size and mtime.

    Debian replaces files on upgrade, so size and mtime change; reading ~100 MB of
    HTML on every load would break the load-time budget.
    """
    sha = hashlib.sha256()
    sha.update(f"build {_BUILD_VERSION}\nwordfreq {_wordfreq_version()}\n".encode())
    for path in files:
        stat = path.stat()
        sha.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return sha.hexdigest()


def _default_sources() -> tuple[Path, ...]:
    return DEFAULT_SOURCES


def _cache_file(folder: Path, digest: str) -> Path:
    return folder / f"{_CACHE_PREFIX}{digest[:20]}{_CACHE_SUFFIX}"


def _compile(files: Sequence[Path], digest: str) -> tuple[dict[str, Any], list[tuple[str, ...]]]:
    """The cache's contents, and the corpus they were counted from."""
    started = time.perf_counter()
    corpus = corpus_sentences(files)
    data = count(corpus, _wordfreq_table())
    data["build"] = _BUILD_VERSION
    data["sha256"] = digest
    data["stats"] = {
        "files": len(files),
        "sentences": len(corpus),
        "tokens": sum(len(s) for s in corpus),
        "spellings": len(data["unigrams"]),
        "ambiguous_groups": len(data["groups"]),
        "context_rows": sum(
            len(rows) for table in ("left", "right", "tri") for rows in data[table].values()
        ),
        "build_seconds": round(time.perf_counter() - started, 2),
    }
    return data, corpus


def _write(folder: Path, digest: str, data: dict[str, Any]) -> Path:
    path = _cache_file(folder, digest)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(marshal.dumps(data))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    for stale in folder.glob(f"{_CACHE_PREFIX}*{_CACHE_SUFFIX}"):
        if stale != path:
            stale.unlink(missing_ok=True)
    return path


def _read(path: Path, digest: str) -> dict[str, Any] | None:
    try:
        data = marshal.loads(path.read_bytes())
    except (FileNotFoundError, EOFError, ValueError, TypeError):
        return None  # missing, or cut short by a crash: build anew
    if not isinstance(data, dict) or data.get("build") != _BUILD_VERSION:
        return None
    return data if data.get("sha256") == digest else None


def _build(
    out: Path | None, sources: Sequence[Path] | None
) -> tuple[Path, dict[str, Any], list[tuple[str, ...]]]:
    folder = out if out is not None else default_cache_dir()
    files = _source_files(sources if sources is not None else _default_sources())
    digest = _digest(files)
    with FileLock(folder / f"{_CACHE_PREFIX}lock"):
        data, corpus = _compile(files, digest)
        return _write(folder, digest, data), data, corpus


def build_context(out: Path | None = None, *, sources: Sequence[Path] | None = None) -> Path:
    """Count the sources into a cache file in the folder ``out``; return the file.

    ``out`` defaults to ``$MINUTES_CACHE`` or ``~/.cache/minutes``; ``sources`` (files, or
    folders searched for ``.html``, ``.page`` and ``.txt``) to the installed
    :data:`DEFAULT_SOURCES`. Always rebuilds, and removes the folder's older context caches.
    """
    return _build(out, sources)[0]


def load_context(cache_dir: Path | None = None) -> ContextModel:
    """The context model from its cache, building the cache first if missing or stale.

    A cached load takes about a tenth of a second; a build a few seconds.
    """
    folder = cache_dir if cache_dir is not None else default_cache_dir()
    files = _source_files(_default_sources())
    digest = _digest(files)
    path = _cache_file(folder, digest)
    data = _read(path, digest)
    if data is None:
        with FileLock(folder / f"{_CACHE_PREFIX}lock"):
            data = _read(path, digest)  # another process may have built it meanwhile
            if data is None:
                _write(folder, digest, _compile(files, digest)[0])
                data = _read(path, digest)
        if data is None:
            raise OSError(f"{path}: context cache unreadable right after building it")
    model = ContextModel(data)
    model.cache_path = path
    return model


# --------------------------------------------------------------------------- command line


_REPORTED = ("ar", "vara", "har", "far", "bor", "sa", "an", "for", "gar", "ga", "fore", "alder")


def _report(tallies: dict[str, Tally], model: ContextModel) -> None:
    print(f"  {'group':<20} {'tokens':>7} {'model':>7} {'baseline':>9}")
    listed = [g for g in _REPORTED if g in tallies]
    others = sorted(
        (g for g in tallies if g not in _REPORTED and g != "*"), key=lambda g: -tallies[g].tokens
    )
    for key in [*listed, *others[:15], "*"]:
        tally = tallies[key]
        name = "all" if key == "*" else "/".join(model.spellings(key)[:3])
        print(
            f"  {name:<20} {tally.tokens:>7} {tally.model / tally.tokens:>7.1%}"
            f" {tally.baseline / tally.tokens:>9.1%}"
        )
    missing = [g for g in _REPORTED if g not in tallies]
    if missing:
        print(
            f"  no held-out token of a group with two spellings in the help: {', '.join(missing)}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """``build`` the cache, then report its counts and held-out accuracy."""
    parser = argparse.ArgumentParser(prog="python -m pipeline.normalise.context")
    parser.add_argument("--cache", type=Path, help="cache folder (default: ~/.cache/minutes)")
    parser.add_argument(
        "--source", type=Path, action="append", help="file or folder of text (repeatable)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="rebuild the cache; print it, its counts and held-out accuracy")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    path, data, corpus = _build(args.cache, args.source)
    elapsed = time.perf_counter() - started
    started = time.perf_counter()
    ContextModel(marshal.loads(path.read_bytes()))
    loaded = time.perf_counter() - started
    print(path)
    for name, value in data["stats"].items():
        print(f"  {name}: {value}")
    print(f"  size: {path.stat().st_size / 1e6:.1f} MB")
    print(f"  build time: {elapsed:.1f} s; load time from the file: {loaded:.2f} s")
    print("held-out accuracy (counted on 90 % of the sentences, restoring the other 10 %):")
    trained = ContextModel(count(without(corpus, 0), _wordfreq_table()))
    _report(evaluate(trained, split(corpus, 0)), trained)
    return 0


if __name__ == "__main__":
    sys.exit(main())
