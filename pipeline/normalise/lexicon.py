"""The Swedish lexicon the normaliser consults: valid words, frequencies, compound parts.

Which words are *valid* comes from Hunspell sv_SE (expanded to every word form), our
``domain.tsv`` and the archivists' ``user/accept.txt`` and ``user/protect.txt``.
wordfreq supplies *frequencies only*: its web text also holds diacritic-less misspellings
(``pa`` for ``på``, ``ocksa`` for ``också``) as frequent words, so it never makes a word valid.

:func:`build` expands all sources into one cache file named by a hash of every source;
:func:`load` reads it back (building it first when missing or stale). Rebuild by hand with
``python -m pipeline.normalise.lexicon build``.
"""

from __future__ import annotations

import argparse
import array
import bisect
import gc
import hashlib
import importlib.metadata
import itertools
import marshal
import math
import os
import re
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline._filelock import FileLock
from pipeline.exceptions import MissingDependency

__all__ = [
    "FLOOR_FREQ",
    "Lexicon",
    "LexiconError",
    "build",
    "default_cache_dir",
    "default_lexicon_dir",
    "fold",
    "load",
]

FLOOR_FREQ = 1e-9
"""Frequency of a valid word wordfreq does not list: below its rarest entry (about 1e-8)."""

DEFAULT_DOMAIN_WEIGHT = 1e-6
"""Weight of a ``domain.tsv`` row that gives none."""

_BUILD_VERSION = "2"  # bump whenever the cache layout or the build rules change
_CACHE_PREFIX = "lexicon-"
_CACHE_SUFFIX = ".marshal"

# The flag bits of a form's code (see Entry): what that exact form may be.
_VALID = 1  # a word on its own
_BEGIN = 2  # may start a compound
_MIDDLE = 4  # may stand inside a compound
_END = 8  # may end a compound
_FORBIDDEN = 16  # Hunspell's FORBIDDENWORD: a known misspelling
_PART = _BEGIN | _MIDDLE

_HUNSPELL_DIRS = (
    Path("/usr/share/hunspell"),
    Path("/usr/share/myspell"),
    Path("/usr/share/myspell/dicts"),
)
_HUNSPELL_NAME = "sv_SE"


class LexiconError(ValueError):
    """A lexicon source file is malformed (the message names file and line)."""


# --------------------------------------------------------------------------- folding


def _fold_table() -> list[str]:
    """A ``str.translate`` table indexed by code point; later code points stay as they are."""
    groups = {
        "a": "àáâãäåāăą",
        "c": "çćĉċč",
        "d": "ďđð",
        "e": "èéêëēĕėęě",
        "g": "ĝğġģ",
        "h": "ĥħ",
        "i": "ìíîïĩīĭįı",
        "j": "ĵ",
        "k": "ķ",
        "l": "ĺļľŀł",
        "n": "ñńņňŉ",
        "o": "òóôõöøōŏő",
        "r": "ŕŗř",
        "s": "śŝşšș",
        "t": "ţťŧț",
        "u": "ùúûüũūŭůűų",
        "w": "ŵ",
        "y": "ýÿŷ",
        "z": "źżž",
    }
    # A list, not a dict: translate indexes it several times faster.
    table = [chr(code) for code in range(0x370)]
    for base, chars in groups.items():
        for char in chars:
            table[ord(char)] = base
    for char, plain in (("æ", "ae"), ("œ", "oe"), ("ß", "ss"), ("þ", "th")):
        table[ord(char)] = plain
    for code in range(0x300, 0x370):  # combining marks, for text that reached us as NFD
        table[code] = ""
    return table


_FOLD = _fold_table()


def fold(word: str) -> str:
    """Lower-case, diacritics removed: the key under which lost-diacritic forms meet.

    >>> fold("Förvaltningen"), fold("idé"), fold("Åby"), fold("Ærø")
    ('forvaltningen', 'ide', 'aby', 'aero')
    """
    word = word.lower()
    if word.isascii():
        return word
    # The Swedish letters first: plain replace is the fastest way, and usually all there is.
    word = word.replace("ä", "a").replace("ö", "o").replace("å", "a")
    return word if word.isascii() else word.translate(_FOLD)


# --------------------------------------------------------------------------- locations


def default_lexicon_dir() -> Path:
    """``$MINUTES_LEXICONS``, else the ``lexicons/`` folder of the repository."""
    env = os.environ.get("MINUTES_LEXICONS")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "lexicons"


def default_cache_dir() -> Path:
    """``$MINUTES_CACHE``, else ``~/.cache/minutes``."""
    env = os.environ.get("MINUTES_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "minutes"


def _hunspell_files() -> tuple[Path, Path]:
    """The sv_SE ``.dic`` and ``.aff`` (``$MINUTES_HUNSPELL_DIR`` first, then Debian's)."""
    env = os.environ.get("MINUTES_HUNSPELL_DIR")
    dirs = (Path(env),) if env else _HUNSPELL_DIRS
    for folder in dirs:
        dic, aff = folder / f"{_HUNSPELL_NAME}.dic", folder / f"{_HUNSPELL_NAME}.aff"
        if dic.is_file() and aff.is_file():
            return dic, aff
    raise MissingDependency(
        f"Hunspell {_HUNSPELL_NAME} dictionary not found in {', '.join(map(str, dirs))}"
        " (install the Debian package hunspell-sv)"
    )


def _wordfreq_version() -> str:
    try:
        return importlib.metadata.version("wordfreq")
    except importlib.metadata.PackageNotFoundError as error:
        raise MissingDependency("the Python package wordfreq is not installed") from error


@dataclass(frozen=True)
class _Sources:
    lexicon_dir: Path
    dic: Path
    aff: Path
    wordfreq: str

    @property
    def domain(self) -> Path:
        return self.lexicon_dir / "domain.tsv"

    @property
    def accept(self) -> Path:
        return self.lexicon_dir / "user" / "accept.txt"

    @property
    def protect(self) -> Path:
        return self.lexicon_dir / "user" / "protect.txt"

    def digest(self, *, user: bool = True) -> str:
        """sha256 over every input of the build, so any edit gives a new cache; without
        ``user``, over all but the user lists."""
        sha = hashlib.sha256()
        sha.update(f"build {_BUILD_VERSION}\nwordfreq {self.wordfreq}\n".encode())
        inputs = [("dic", self.dic), ("aff", self.aff), ("domain", self.domain)]
        if user:
            inputs += [("accept", self.accept), ("protect", self.protect)]
        for name, path in inputs:
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                sha.update(f"{name} missing\n".encode())
                continue
            sha.update(f"{name} {len(data)}\n".encode())
            sha.update(data)
        return sha.hexdigest()

    def cache_path(self, cache_dir: Path, digest: str) -> Path:
        return cache_dir / f"{self._dir_key()}{digest[:20]}{_CACHE_SUFFIX}"

    def _dir_key(self) -> str:
        # One lexicon folder's caches share a name prefix, so a rebuild can drop its stale ones
        # without touching the caches of other folders (tests, other checkouts).
        where = hashlib.sha256(str(self.lexicon_dir).encode()).hexdigest()[:8]
        return f"{_CACHE_PREFIX}{where}-"


def _sources(lexicon_dir: Path | None) -> _Sources:
    folder = (lexicon_dir if lexicon_dir is not None else default_lexicon_dir()).resolve()
    dic, aff = _hunspell_files()
    return _Sources(folder, dic, aff, _wordfreq_version())


# --------------------------------------------------------------------------- the lexicon

# A frequency is stored as its rounded centibel level (wordfreq's own resolution): index i
# stands for 10 ** (-(i - 1) / 100), index 0 for "no frequency".
_CB_LEVELS = 1001
_CB_FREQ = (0.0, *(10 ** (-cb / 100) for cb in range(_CB_LEVELS)))
_BITS = 5  # the low bits of a code are the _VALID.._FORBIDDEN flags


def _freq_index(value: float) -> int:
    if value <= 0.0:
        return 0
    return min(max(round(-100 * math.log10(value)), 0), _CB_LEVELS - 1) + 1


Entry = int | tuple[str | int, ...]
"""A fold key's forms: just a code when the key itself is the only form, else a flat
tuple ``(form, code, form, code, ...)``, most frequent first. A code packs the form's
bits and its frequency index."""


def _code(entry: Entry | None, key: str, form: str) -> int:
    """The code of ``form`` in its fold key's entry, -1 if the entry does not hold it."""
    if entry is None:
        return -1
    if isinstance(entry, int):
        return entry if form == key else -1
    for i in range(0, len(entry), 2):
        if entry[i] == form:
            return entry[i + 1]  # type: ignore[return-value]
    return -1


def _pairs(entry: Entry | None, key: str) -> Iterator[tuple[str, int]]:
    if entry is None:
        return
    if isinstance(entry, int):
        yield key, entry
        return
    for i in range(0, len(entry), 2):
        yield entry[i], entry[i + 1]  # type: ignore[misc]


@dataclass(frozen=True, eq=False)
class Lexicon:
    """Read-only word knowledge; get one with :func:`load`.

    Case follows Hunspell: a lower-case entry also matches its capitalised and all-caps
    spellings, a capitalised one (``Göteborg``) its all-caps spelling, not the reverse.
    """

    sha256: str
    """Hash of every source (Hunspell files, domain.tsv, user lists, wordfreq version)."""
    base_sha256: str
    """Hash of every source but the user lists: what a change of those lists leaves alone."""
    protected: frozenset[str]
    """Words and names from ``user/protect.txt`` the normaliser must never change."""
    accepted: frozenset[str]
    """Words from ``user/accept.txt``, valid whatever Hunspell says."""
    lexicon_dir: Path
    cache_path: Path
    counts: Mapping[str, int]
    _entries: Mapping[str, Entry] = field(repr=False)
    _part_keys: frozenset[str] = field(repr=False)
    _max_part: int = field(repr=False)
    _ranked_keys: tuple[str, ...] = field(repr=False)
    """Keys with an attested valid word, most frequent first ..."""
    _ranked_levels: Sequence[int] = field(repr=False)
    """... and the frequency index of each (ascending: lower is more frequent)."""
    _memo: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    def _bits(self, word: str) -> int:
        """The flag bits of ``word``, with Hunspell's case fallbacks (0 if unknown)."""
        key = fold(word)
        entry = self._entries.get(key)
        if entry is None:
            return 0
        code = _code(entry, key, word)
        if not word.islower():
            lower = word.lower()
            if word[1:] == lower[1:] or word.isupper():  # Capitalised or ALL CAPS
                code = max(code, 0) | max(_code(entry, key, lower), 0)
            if word.isupper() and len(word) > 1:
                code = max(code, 0) | max(_code(entry, key, word[0] + lower[1:]), 0)
        return max(code, 0) & ((1 << _BITS) - 1)

    def freq(self, word: str) -> float:
        """Frequency from wordfreq or a domain weight; 0.0 if unknown.

        Exact form first, then its lower case. A valid word wordfreq does not list gets
        :data:`FLOOR_FREQ`. A frequency says nothing of validity: ``freq('pa')`` is 4e-5.
        """
        key = fold(word)
        entry = self._entries.get(key)
        code = _code(entry, key, word)
        if code <= 0 and not word.islower():
            code = _code(entry, key, word.lower())
        return _CB_FREQ[code >> _BITS] if code > 0 else 0.0

    def is_word(self, word: str) -> bool:
        """Valid Swedish: a Hunspell form, a domain word, or an accepted/protected word."""
        return bool(self._bits(word) & _VALID)

    def is_compound_part(self, word: str) -> bool:
        """May start or continue a compound (``förvaltnings``, ``tjänste``, ``social``)."""
        return bool(self._bits(word) & _PART)

    def is_compound_end(self, word: str) -> bool:
        """May end a compound (Hunspell's COMPOUNDEND: most nouns, adjectives and verbs)."""
        return bool(self._bits(word) & _END)

    def is_forbidden(self, word: str) -> bool:
        """Hunspell lists the form as a known misspelling (``afghanstan``)."""
        return bool(self._bits(word) & _FORBIDDEN)

    def is_protected(self, word: str) -> bool:
        """In ``user/protect.txt`` as written, or written there in lower case."""
        return word in self.protected or word.lower() in self.protected

    def _select(self, folded: str, bit: int) -> tuple[tuple[str, float], ...]:
        entry = self._entries.get(folded)
        if entry is None and fold(folded) != folded:
            folded = fold(folded)
            entry = self._entries.get(folded)
        return tuple(
            (form, _CB_FREQ[code >> _BITS] or FLOOR_FREQ)
            for form, code in _pairs(entry, folded)
            if code & bit
        )

    def variants(self, folded: str) -> tuple[tuple[str, float], ...]:
        """Every valid word whose :func:`fold` is ``folded``, most frequent first.

        ``variants('ar')`` gives ``är``, ``år``, ``ar``; ``variants('pa')`` only ``på``.
        """
        return self._select(folded, _VALID)

    def part_variants(self, folded: str) -> tuple[tuple[str, float], ...]:
        """Every compound-part form whose :func:`fold` is ``folded``, most frequent first.

        Unlike :meth:`variants` it holds forms that exist only inside compounds:
        ``part_variants('tjanste')`` gives ``tjänste``.
        """
        return self._select(folded, _PART)

    def prefix_parts(self, folded: str, start: int = 0, min_len: int = 2) -> tuple[str, ...]:
        """Keys of :meth:`part_variants` that ``folded[start:]`` begins with, shortest first.

        The building block of compound splitting: for ``arbetsmarknadsforvaltningen`` it
        gives ``arbets`` and ``arbetsmarknads`` among others; the caller does the DP.
        """
        keys = self._part_keys
        stop = min(len(folded), start + self._max_part)
        return tuple(
            folded[start:end]
            for end in range(start + min_len, stop + 1)
            if folded[start:end] in keys
        )

    def _key_freq(self, key: str, need: int) -> float:
        """The highest frequency among ``key``'s forms with all ``need`` bits; 0.0 if none."""
        best = 0.0
        for _form, code in _pairs(self._entries.get(key), key):
            if code & need == need:
                best = max(best, _CB_FREQ[code >> _BITS] or FLOOR_FREQ)
        return best

    def split_compound(self, folded: str, min_len: int = 2) -> tuple[str, ...]:
        """Folded parts (two or more) that spell ``folded`` as a compound; ``()`` if none.

        As Hunspell builds compounds: the first part may begin one, the middle parts may
        stand inside one, the last is a word that may end one. Fewest parts win, then the
        most frequent. ``arbetsmarknadsforvaltningen`` gives ``('arbetsmarknads',
        'forvaltningen')``; look the parts up with :meth:`part_variants` and, for the last,
        :meth:`variants`. The parts always concatenate to ``folded``.
        """
        if len(folded) < 2 * min_len:
            return ()
        memo: dict[int, tuple[float, tuple[str, ...]] | None] = {}

        def best(start: int) -> tuple[float, tuple[str, ...]] | None:
            # Score: parts count first (each costs 1000), then rarer parts cost more.
            if start in memo:
                return memo[start]
            need = _BEGIN if start == 0 else _MIDDLE
            found: tuple[float, tuple[str, ...]] | None = None
            for head in self.prefix_parts(folded, start, min_len):
                head_freq = self._key_freq(head, need)
                if not head_freq:
                    continue
                rest_at = start + len(head)
                rest = folded[rest_at:]
                options: list[tuple[float, tuple[str, ...]]] = []
                if len(rest) >= min_len:
                    tail_freq = self._key_freq(rest, _VALID | _END)
                    if tail_freq:
                        options.append((1000.0 - math.log(tail_freq), (rest,)))
                    deeper = best(rest_at)
                    if deeper is not None:
                        options.append(deeper)
                for score, parts in options:
                    candidate = (score + 1000.0 - math.log(head_freq), (head, *parts))
                    if found is None or candidate[0] < found[0]:
                        found = candidate
            memo[start] = found
            return found

        result = best(0)
        return result[1] if result is not None else ()

    def frequent_keys(self, length: int, min_freq: float = 1e-6) -> tuple[str, ...]:
        """Fold keys of ``length`` letters with a valid word of at least ``min_freq``.

        Most frequent first: the choices for fuzzy matching a damaged word. The first
        call for a ``min_freq`` takes some milliseconds; later calls are lookups.
        """
        by_length = self._memo.get(("frequent", min_freq))
        if by_length is None:
            count = bisect.bisect_right(self._ranked_levels, _freq_index(min_freq))
            grouped: dict[int, list[str]] = {}
            for key in self._ranked_keys[:count]:
                grouped.setdefault(len(key), []).append(key)
            by_length = {n: tuple(keys) for n, keys in grouped.items()}
            self._memo["frequent", min_freq] = by_length
        result: tuple[str, ...] = by_length.get(length, ())
        return result

    def __reduce__(self) -> tuple[Any, ...]:
        # Worker processes reload from the cache file rather than unpickle ~100 MB.
        return (_reload, (self.lexicon_dir, self.cache_path.parent))


def _reload(lexicon_dir: Path, cache_dir: Path) -> Lexicon:
    return load(lexicon_dir, cache_dir=cache_dir)


# --------------------------------------------------------------------------- Hunspell


def _condition(text: str) -> tuple[re.Pattern[str] | None, int]:
    """Compile a Hunspell affix condition (``[^aeiou]a``, ``.``) into a pattern and length."""
    if text == ".":
        return None, 0
    pieces: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "[":
            close = text.index("]", i + 1)
            body = text[i + 1 : close]
            negate = body.startswith("^")
            chars = "".join(re.escape(c) for c in (body[1:] if negate else body))
            pieces.append(f"[{'^' if negate else ''}{chars}]")
            i = close + 1
        else:
            pieces.append("." if char == "." else re.escape(char))
            i += 1
    return re.compile("".join(pieces)), len(pieces)


@dataclass
class _Affix:
    strip: str
    add: str
    cont: frozenset[str]
    pattern: re.Pattern[str] | None
    length: int


@dataclass
class _AffixFile:
    """The parts of a Hunspell ``.aff`` that word-form expansion needs."""

    flag_mode: str = "char"
    suffixes: dict[str, list[_Affix]] = field(default_factory=dict)
    prefixes: dict[str, list[_Affix]] = field(default_factory=dict)
    cross: dict[str, bool] = field(default_factory=dict)
    begin: frozenset[str] = frozenset()
    middle: frozenset[str] = frozenset()
    end: frozenset[str] = frozenset()
    only_in_compound: str = ""
    permit: str = ""
    forbidden: str = ""
    need_affix: str = ""

    def split(self, flags: str) -> list[str]:
        if self.flag_mode == "long":
            return [flags[i : i + 2] for i in range(0, len(flags), 2)]
        if self.flag_mode == "num":
            return [f for f in flags.split(",") if f]
        return list(flags)


def _parse_aff(path: Path) -> _AffixFile:
    aff = _AffixFile()
    single: dict[str, str] = {}
    begin: set[str] = set()
    middle: set[str] = set()
    end: set[str] = set()
    lines = path.read_text(encoding="utf-8").splitlines()
    pending = 0
    for lineno, line in enumerate(lines, 1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        key = fields[0]
        if key in ("SFX", "PFX") and len(fields) >= 4 and pending == 0 and fields[2] in "YN":
            aff.cross[fields[1]] = fields[2] == "Y"
            pending = int(fields[3])
            (aff.suffixes if key == "SFX" else aff.prefixes).setdefault(fields[1], [])
        elif key in ("SFX", "PFX") and pending and len(fields) >= 5:
            pending -= 1
            add, _, cont = fields[3].partition("/")
            strip = "" if fields[2] == "0" else fields[2]
            pattern, length = _condition(fields[4])
            rule = _Affix(
                strip, "" if add == "0" else add, frozenset(aff.split(cont)), pattern, length
            )
            (aff.suffixes if key == "SFX" else aff.prefixes)[fields[1]].append(rule)
        elif key == "FLAG" and len(fields) > 1:
            aff.flag_mode = {"long": "long", "num": "num"}.get(fields[1], "char")
        elif key == "AF":
            raise LexiconError(f"{path}:{lineno}: flag aliases (AF) are not supported")
        elif key == "COMPOUNDRULE" and len(fields) > 1 and not set(fields[1]) & set("*?"):
            # Only plain two-part rules (sv: ">j" prefix + verb, ")k" + adjective); the
            # rules with * and ? spell out numbers, which the normaliser leaves alone.
            spec = fields[1]
            flags = re.findall(r"\(([^)]*)\)", spec) if "(" in spec else list(spec)
            if len(flags) == 2:
                begin.add(flags[0])
                end.add(flags[1])
        elif len(fields) > 1:
            single[key] = fields[1]
    begin.update(f for k in ("COMPOUNDBEGIN", "COMPOUNDFLAG") if (f := single.get(k)))
    middle.update(f for k in ("COMPOUNDMIDDLE", "COMPOUNDFLAG") if (f := single.get(k)))
    end.update(f for k in ("COMPOUNDEND", "COMPOUNDFLAG") if (f := single.get(k)))
    aff.begin, aff.middle, aff.end = frozenset(begin), frozenset(middle), frozenset(end)
    aff.only_in_compound = single.get("ONLYINCOMPOUND", "")
    aff.permit = single.get("COMPOUNDPERMITFLAG", "")
    aff.forbidden = single.get("FORBIDDENWORD", "")
    aff.need_affix = single.get("NEEDAFFIX", "")
    return aff


def _read_dic(path: Path) -> Iterator[tuple[str, str]]:
    """(word, flags) per entry; morphological fields after a tab are dropped."""
    with path.open(encoding="utf-8") as handle:
        next(handle, None)  # the approximate entry count
        for line in handle:
            entry = line.split("\t", 1)[0].strip()
            if not entry:
                continue
            slash = entry.find("/", 1)  # from 1: the entry "/" itself has no flags
            if slash < 0:
                yield entry, ""
            else:
                yield entry[:slash], entry[slash + 1 :]


class _Expander:
    """Hunspell stems to every word form, with what each form may be (the ``_*`` bits)."""

    def __init__(self, aff: _AffixFile) -> None:
        self.aff = aff
        self._memo: dict[tuple[str, str], list[_Affix]] = {}
        self._reach = {
            flag: max((max(r.length, len(r.strip)) for r in rules), default=0)
            for flag, rules in aff.suffixes.items()
        }

    def _suffixes(self, flag: str, word: str) -> list[_Affix]:
        # Conditions only look at a word's last few letters: memoise on them.
        tail = word[-self._reach[flag] :] if self._reach[flag] else ""
        key = (flag, tail if len(word) > len(tail) else "\0" + tail)
        rules = self._memo.get(key)
        if rules is None:
            rules = [
                r
                for r in self.aff.suffixes[flag]
                if len(word) >= r.length
                and word.endswith(r.strip)
                and (r.pattern is None or r.pattern.fullmatch(word, len(word) - r.length))
            ]
            self._memo[key] = rules
        return rules

    def _prefixed(self, flag: str, word: str) -> Iterator[tuple[str, _Affix]]:
        for r in self.aff.prefixes[flag]:
            if word.startswith(r.strip) and (
                r.pattern is None or r.pattern.match(word) is not None
            ):
                yield r.add + word[len(r.strip) :], r

    def expand(self, word: str, flag_text: str) -> list[tuple[str, int]]:
        aff = self.aff
        flags = set(aff.split(flag_text))
        only = aff.only_in_compound in flags
        alone = 0 if only else _VALID
        stem_begin = bool(flags & aff.begin)
        stem_middle = bool(flags & aff.middle)
        stem_end = _END if flags & aff.end else 0
        forms: list[tuple[str, int]] = []
        if not (aff.need_affix and aff.need_affix in flags):
            bits = alone | stem_end | (_BEGIN if stem_begin else 0)
            forms.append((word, bits | (_MIDDLE if stem_middle else 0)))
        suffixed: list[tuple[str, str]] = []
        for flag in flags:
            if flag not in aff.suffixes:
                continue
            for rule in self._suffixes(flag, word):
                form = word[: len(word) - len(rule.strip)] + rule.add
                if not form:
                    continue
                cont = rule.cont
                bits = 0 if only or aff.only_in_compound in cont else _VALID
                if aff.permit and aff.permit in cont:  # a joining form (fogeform) of a compound
                    if stem_begin or cont & aff.begin:
                        bits |= _BEGIN
                    if stem_middle or cont & aff.middle:
                        bits |= _MIDDLE
                elif not cont & (aff.begin | aff.middle):
                    bits |= stem_end
                forms.append((form, bits))
                suffixed.append((form, flag))
        for flag in flags:
            if flag not in aff.prefixes:
                continue
            for form, _ in self._prefixed(flag, word):
                forms.append((form, alone))
            if aff.cross.get(flag):
                for form, suffix_flag in suffixed:
                    if aff.cross.get(suffix_flag):
                        forms.extend((p, alone) for p, _ in self._prefixed(flag, form))
        if aff.forbidden and aff.forbidden in flags:
            return [(form, _FORBIDDEN) for form, _ in forms]
        return forms


def _hunspell_forms(dic: Path, aff_path: Path) -> dict[str, int]:
    """Every word form of the dictionary with its bits (forbidden forms carry only that bit)."""
    expander = _Expander(_parse_aff(aff_path))
    flags: dict[str, int] = {}
    phrase_words: set[str] = set()
    for word, flag_text in _read_dic(dic):
        if " " in word:
            # Multi-word entries ("ad hoc", "alter ego"): their words occur alone in text.
            phrase_words.update(word.split())
            continue
        for form, bits in expander.expand(word, flag_text):
            if form.endswith("-") or not any(c.isalpha() for c in form):
                continue  # "år-" (as in "år- och dagsverken"), numbers, punctuation
            flags[form] = flags.get(form, 0) | bits
    for word in phrase_words:
        if any(c.isalpha() for c in word) and word not in flags:
            flags[word] = _VALID
    for form, bits in flags.items():
        if bits & _FORBIDDEN:
            flags[form] = _FORBIDDEN  # a forbidden homonym wins, as in Hunspell
    return flags


# --------------------------------------------------------------------------- our lists


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, content) without comments and blank lines; none for a missing file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*", "", raw).strip()
        if line:
            yield lineno, line


def _word_list(path: Path) -> list[str]:
    """One word per line; a line with spaces (a name) counts each of its words."""
    return [word for _, line in _lines(path) for word in line.split()]


@dataclass(frozen=True)
class _DomainRow:
    word: str
    weight: float
    kind: str  # "word", "part" (only inside compounds) or "deny" (not a word here)


def _domain_rows(path: Path) -> list[_DomainRow]:
    rows: list[_DomainRow] = []
    for lineno, line in _lines(path):
        columns = [c.strip() for c in line.split("\t")]
        word = columns[0]
        if not rows and word.lower() == "word":
            continue  # the header
        kind = "word"
        if word.startswith("!"):
            kind, word = "deny", word[1:].strip()
        if len(columns) > 2 and columns[2]:
            if kind == "deny" or columns[2] not in ("word", "part"):
                raise LexiconError(f"{path}:{lineno}: kind must be 'word' or 'part': {line!r}")
            kind = columns[2]
        weight = DEFAULT_DOMAIN_WEIGHT
        if len(columns) > 1 and columns[1]:
            try:
                weight = float(columns[1])
            except ValueError:
                raise LexiconError(f"{path}:{lineno}: weight is not a number: {line!r}") from None
            if not 0.0 <= weight < 1.0:
                raise LexiconError(f"{path}:{lineno}: weight must be in [0, 1): {line!r}")
        if not word:
            raise LexiconError(f"{path}:{lineno}: empty word")
        rows.extend(_DomainRow(token, weight, kind) for token in word.split())
    return rows


# --------------------------------------------------------------------------- build


def _wordfreq_table() -> dict[str, float]:
    try:
        import wordfreq
    except ImportError as error:  # pragma: no cover - it is a declared dependency
        raise MissingDependency("the Python package wordfreq is not installed") from error
    table: dict[str, float] = wordfreq.get_frequency_dict("sv", wordlist="large")
    return table


def _index(
    bits: dict[str, int], lower_freq: dict[str, float]
) -> tuple[dict[str, Entry], list[tuple[int, str]]]:
    """Every form grouped under its fold key, best first; and the attested keys by level."""
    floor = _freq_index(FLOOR_FREQ)
    levels = {value: _freq_index(value) for value in set(lower_freq.values())}
    codes: dict[int, int] = {}  # one object per distinct code, so marshal stores it once
    # Per key a list of (sort level, capitalised?, form, code); level 0 (unknown) sorts last.
    buckets: dict[str, list[tuple[int, bool, str, int]]] = {}
    only_counted = ((form, 0) for form in lower_freq if form not in bits)
    for form, flags in itertools.chain(bits.items(), only_counted):
        lower = form.islower()
        value = lower_freq.get(form if lower else form.lower())
        level = levels[value] if value is not None else 0
        if not level:
            if not flags:
                continue
            if flags & _VALID:
                level = floor
        code = (level << _BITS) | flags
        item = (level or _CB_LEVELS + 1, not lower, form, codes.setdefault(code, code))
        key = fold(form)
        bucket = buckets.get(key)
        if bucket is None:
            buckets[key] = [item]
        else:
            bucket.append(item)

    entries: dict[str, Entry] = {}
    ranked: list[tuple[int, str]] = []
    for key, items in buckets.items():
        if len(items) == 1:
            item = items[0]
            entries[key] = item[3] if item[2] == key else item[2:]
            if item[3] & _VALID and item[0] < floor:
                ranked.append((item[0], key))
            continue
        items.sort()
        entries[key] = tuple(x for item in items for x in item[2:])
        best = min((item[0] for item in items if item[3] & _VALID), default=floor)
        if best < floor:
            ranked.append((best, key))
    ranked.sort()
    return entries, ranked


def _compile(sources: _Sources, digest: str) -> tuple[dict[str, Any], dict[str, int]]:
    """All sources merged into the plain dicts and tuples the cache stores."""
    # Our own files first: a typo in them should fail at once, not after the expansion.
    rows = _domain_rows(sources.domain)
    accepted = _word_list(sources.accept)
    protected = _word_list(sources.protect)
    bits = _hunspell_forms(sources.dic, sources.aff)
    hunspell_valid = sum(1 for b in bits.values() if b & _VALID)
    # Frequencies by lower-case form, as wordfreq gives them; domain weights raise them.
    lower_freq = {w: f for w, f in _wordfreq_table().items() if any(c.isalpha() for c in w)}
    wordfreq_words = len(lower_freq)

    for row in rows:
        if row.kind == "deny":
            bits.pop(row.word, None)
            continue
        add = _PART if row.kind == "part" else _VALID | _END
        bits[row.word] = (bits.get(row.word, 0) & ~_FORBIDDEN) | add
        if row.kind == "word":
            key = row.word.lower()
            lower_freq[key] = max(lower_freq.get(key, 0.0), row.weight)
    for word in (*accepted, *protected):
        bits[word] = (bits.get(word, 0) & ~_FORBIDDEN) | _VALID | _END

    entries, ranked = _index(bits, lower_freq)
    part_keys = frozenset(fold(form) for form, b in bits.items() if b & _PART)

    counts = {
        "hunspell_valid": hunspell_valid,
        "valid": sum(1 for b in bits.values() if b & _VALID),
        "compound_parts": sum(1 for b in bits.values() if b & _PART),
        "compound_ends": sum(1 for b in bits.values() if b & _END),
        "forbidden": sum(1 for b in bits.values() if b & _FORBIDDEN),
        "domain": sum(1 for row in rows if row.kind != "deny"),
        "denied": sum(1 for row in rows if row.kind == "deny"),
        "accepted": len(set(accepted)),
        "protected": len(set(protected)),
        "wordfreq": wordfreq_words,
        "fold_keys": len(entries),
    }
    data: dict[str, Any] = {
        "build": _BUILD_VERSION,
        "sha256": digest,
        "lexicon_dir": str(sources.lexicon_dir),
        "protected": frozenset(protected),
        "accepted": frozenset(accepted),
        "counts": counts,
        "entries": entries,
        "part_keys": part_keys,
        "max_part": max(map(len, part_keys), default=0),
        "ranked_keys": tuple(key for _, key in ranked),
        "ranked_levels": array.array("H", [level for level, _ in ranked]).tobytes(),
    }
    return data, counts


def _write_cache(sources: _Sources, cache_dir: Path, digest: str) -> tuple[Path, dict[str, int]]:
    enabled = gc.isenabled()
    gc.disable()  # millions of small tuples, none of them garbage: collections only cost
    try:
        data, counts = _compile(sources, digest)
    finally:
        if enabled:
            gc.enable()
    path = sources.cache_path(cache_dir, digest)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(marshal.dumps(data))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _prune(cache_dir, sources._dir_key(), keep=path)
    return path, counts


def _prune(cache_dir: Path, prefix: str, keep: Path, count: int = 2) -> None:
    """Remove all but the newest ``count`` caches of one lexicon folder.

    Two, not one: undoing an edit of a user list then finds its cache still there.
    """

    def age(cache: Path) -> float:
        try:
            return -cache.stat().st_mtime
        except FileNotFoundError:
            return 0.0

    others = sorted((c for c in cache_dir.glob(f"{prefix}*{_CACHE_SUFFIX}") if c != keep), key=age)
    for stale in others[count - 1 :]:
        stale.unlink(missing_ok=True)


def build(lexicon_dir: Path | None = None, *, cache_dir: Path | None = None) -> Path:
    """Build the cache from Hunspell sv_SE, wordfreq, domain.tsv and the user lists.

    Always rebuilds; returns the cache file. Of the older caches of the same lexicon
    folder in ``cache_dir`` only the newest is kept.
    """
    return _build(lexicon_dir, cache_dir)[0]


def _build(lexicon_dir: Path | None, cache_dir: Path | None) -> tuple[Path, dict[str, int]]:
    sources = _sources(lexicon_dir)
    folder = (cache_dir if cache_dir is not None else default_cache_dir()).resolve()
    with FileLock(folder / f"{sources._dir_key()}lock"):
        return _write_cache(sources, folder, sources.digest())


def _levels(raw: bytes) -> array.array[int]:
    levels = array.array("H")
    levels.frombytes(raw)
    return levels


_LOADED: dict[tuple[Path, Path], Lexicon] = {}
"""The lexicon last loaded per (lexicon folder, cache folder)."""


def _read_cache(path: Path, digest: str) -> dict[str, Any] | None:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    enabled = gc.isenabled()
    gc.disable()  # a million new objects would set off collections that find nothing to free
    try:
        data = marshal.loads(raw)
    except (EOFError, ValueError, TypeError):
        return None  # cut short by a crash: build anew
    finally:
        if enabled:
            gc.enable()
    if not isinstance(data, dict) or data.get("build") != _BUILD_VERSION:
        return None
    return data if data.get("sha256") == digest else None


def load(lexicon_dir: Path | None = None, *, cache_dir: Path | None = None) -> Lexicon:
    """Load the lexicon from its cache, building the cache first if missing or stale.

    A cached load reads one file in about half a second; a build takes about ten. Within
    a process the loaded lexicon is kept: a second call only re-hashes the sources.
    """
    sources = _sources(lexicon_dir)
    folder = (cache_dir if cache_dir is not None else default_cache_dir()).resolve()
    digest = sources.digest()
    loaded = _LOADED.get((sources.lexicon_dir, folder))
    if loaded is not None and loaded.sha256 == digest and loaded.cache_path.exists():
        return loaded
    path = sources.cache_path(folder, digest)
    data = _read_cache(path, digest)
    if data is None:
        with FileLock(folder / f"{sources._dir_key()}lock"):
            data = _read_cache(path, digest)  # another process may have built it meanwhile
            if data is None:
                _write_cache(sources, folder, digest)
                data = _read_cache(path, digest)
        if data is None:
            raise LexiconError(f"{path}: cache unreadable right after building it")
    lexicon = Lexicon(
        sha256=digest,
        base_sha256=sources.digest(user=False),
        protected=data["protected"],
        accepted=data["accepted"],
        lexicon_dir=sources.lexicon_dir,
        cache_path=path,
        counts=data["counts"],
        _entries=data["entries"],
        _part_keys=data["part_keys"],
        _max_part=data["max_part"],
        _ranked_keys=data["ranked_keys"],
        _ranked_levels=_levels(data["ranked_levels"]),
    )
    _LOADED[sources.lexicon_dir, folder] = lexicon
    return lexicon


# --------------------------------------------------------------------------- command line


def _show(lexicon: Lexicon, words: Iterable[str]) -> None:
    for word in words:
        key = fold(word)
        print(
            f"{word}: word={lexicon.is_word(word)} part={lexicon.is_compound_part(word)}"
            f" end={lexicon.is_compound_end(word)} protected={lexicon.is_protected(word)}"
            f" freq={lexicon.freq(word):.3g}"
        )
        print(f"  variants({key!r}) = {list(lexicon.variants(key))}")
        print(f"  part_variants({key!r}) = {list(lexicon.part_variants(key))}")


def main(argv: Sequence[str] | None = None) -> int:
    """``build`` the cache, or ``show`` what the lexicon knows about some words."""
    parser = argparse.ArgumentParser(prog="python -m pipeline.normalise.lexicon")
    parser.add_argument("--lexicons", type=Path, help="lexicon folder (default: lexicons/)")
    parser.add_argument("--cache", type=Path, help="cache folder (default: ~/.cache/minutes)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="rebuild the cache and print its path and counts")
    show = sub.add_parser("show", help="print what the lexicon says about words")
    show.add_argument("words", nargs="+")
    args = parser.parse_args(argv)
    if args.command == "build":
        started = time.perf_counter()
        path, counts = _build(args.lexicons, args.cache)
        print(path)
        for name, count in counts.items():
            print(f"  {name}: {count}")
        print(f"  size: {path.stat().st_size / 1e6:.1f} MB")
        print(f"  build time: {time.perf_counter() - started:.1f} s")
        return 0
    started = time.perf_counter()
    lexicon = load(args.lexicons, cache_dir=args.cache)
    print(f"loaded {lexicon.cache_path} in {time.perf_counter() - started:.2f} s")
    _show(lexicon, args.words)
    return 0


if __name__ == "__main__":
    # Run the package's copy of this module, not a second one as __main__: one class
    # Lexicon and one in-process cache.
    from pipeline.normalise import lexicon

    sys.exit(lexicon.main())
