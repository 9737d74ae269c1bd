"""Score text restoration against ground truth: every damage kind, every system, one report.

Ground truth comes from three folders, each reported on its own: the corpus
fixtures (``data/fixtures``), and the ``dev`` and ``test`` texts under
``benchmarks/texts``. Each text is damaged in every way ``damage`` knows, and
every system restores the damaged text:

- ``input``: the damaged text itself (for the Tesseract rows: Tesseract's raw output);
- ``ftfy``: ``ftfy.fix_text`` alone;
- ``naive``: each word replaced by the most frequent ``wordfreq`` word with the
  same spelling without diacritics, the floor a restorer must beat;
- ``minutes``: ``pipeline.normalise.normalize``.

Seed 000 of ``../shared`` against its hand correction is scored too when that
folder is present. Word accuracy and CER are micro-averaged: errors are summed
over documents before dividing.
"""

from __future__ import annotations

import csv
import json
import os
import re
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import ftfy
from rapidfuzz.distance import Levenshtein

from benchmarks.damage import (
    DEFAULT_CACHE,
    TEXT_DAMAGES,
    strip_diacritics,
    tesseract,
    unhyphenate,
)
from pipeline.exceptions import MinutesError
from pipeline.metrics import collapse

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "data" / "fixtures"
TEXTS = ROOT / "benchmarks" / "texts"
SHARED = ROOT.parent / "shared"
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "eval.json"

SOURCES = ("fixtures", "dev", "test")
GOLD_SOURCE = "gold"
OCR_KINDS = {"tesseract-swe": "swe", "tesseract-eng": "eng"}
GOLD_KIND = "real-ocr"
KINDS = (*TEXT_DAMAGES, *OCR_KINDS, GOLD_KIND)
CLASSES = ("diacritic", "glyph", "merge/split", "hyphenation", "encoding", "other")
"""How a damaged word differs from the truth; ``other`` is a word missing from the input."""

WORD_ACCURACY_TARGETS = {"stripped": 0.99, "ocr-sim": 0.98, "tesseract-eng": 0.98, GOLD_KIND: 0.97}
"""Word accuracy ``minutes`` must reach, per damage kind (the normalisation issue's targets)."""
MAX_OVER_CORRECTIONS_PER_2000 = 1.0
"""Per 2,000 words that were right in the input, over every damage kind of a source."""

QUICK_DOCUMENTS = 2
"""``--quick``: documents per source for the text damages."""
QUICK_PAGES = 2
"""``--quick``: pages OCR'd per language, from the first documents."""
EXAMPLES = 20
# Over-corrections are listed word by word only where looking is allowed: the
# test texts are held out, and the shared seed must not be copied anywhere.
EXAMPLES_FROM = frozenset({"fixtures", "dev"})

Report = dict[str, Any]
Log = Callable[[str], None]


# --- data --------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """One clean ground-truth text."""

    source: str
    name: str
    text: str

    @property
    def seed(self) -> int:
        """A seed that depends on the text's name only, so damage is stable across runs."""
        return zlib.crc32(f"{self.source}/{self.name}".encode())


@dataclass(frozen=True)
class Case:
    """One damaged text and the truth it should be restored to."""

    source: str
    kind: str
    name: str
    damaged: str
    truth: str
    pages: int = 0


def load_texts(fixtures: Path = FIXTURES, texts: Path = TEXTS) -> dict[str, list[Text]]:
    """The ground-truth texts of each source, in name order; a missing source is empty."""
    found: dict[str, list[Text]] = {source: [] for source in SOURCES}
    index = fixtures / "corpus.csv"
    if index.exists():
        with index.open(encoding="utf-8") as handle:
            names = sorted({row["fixture"] for row in csv.DictReader(handle)})
        found["fixtures"] = [
            Text("fixtures", name, (fixtures / name).read_text("utf-8")) for name in names
        ]
    for source in ("dev", "test"):
        found[source] = [
            Text(source, path.name, path.read_text("utf-8"))
            for path in sorted((texts / source).glob("*.txt"))
        ]
    return found


def gold_case(shared: Path = SHARED) -> Case | str:
    """Seed 000 as OCR left it, against its hand correction; or why it cannot be read."""
    if not shared.is_dir():
        return f"{shared} is absent"
    seeds = sorted((shared / "seeds").glob("000_*.txt"))
    if not seeds:
        return f"no seed 000 in {shared / 'seeds'}"
    gold = shared / "gold" / seeds[0].name.replace(".txt", ".gold.txt")
    if not gold.exists():
        return f"{gold} is absent"
    return Case(
        GOLD_SOURCE,
        GOLD_KIND,
        seeds[0].name,
        damaged=seeds[0].read_text("utf-8"),
        truth=gold.read_text("utf-8"),
    )


def build_cases(
    texts: Mapping[str, Sequence[Text]],
    *,
    quick: bool = False,
    ocr: bool = True,
    cache_dir: Path = DEFAULT_CACHE,
    jobs: int | None = None,
    log: Log = lambda _: None,
) -> tuple[list[Case], dict[str, str]]:
    """Damage every text in every way; return the cases and the parts skipped, with why."""
    cases: list[Case] = []
    skipped: dict[str, str] = {}
    for source, items in texts.items():
        if not items:
            skipped[source] = f"no ground-truth texts for {source}"
        for text in items[:QUICK_DOCUMENTS] if quick else items:
            for kind, damage in TEXT_DAMAGES.items():
                cases.append(Case(source, kind, text.name, damage(text.text, text.seed), text.text))
    if not ocr:
        skipped["tesseract"] = "OCR not requested"
        return cases, skipped
    try:
        cases += _ocr_cases(texts, quick=quick, cache_dir=cache_dir, jobs=jobs, log=log)
    except (MinutesError, ImportError, OSError) as error:
        # No engine, model, renderer or font: the text damages still say something.
        skipped["tesseract"] = f"{type(error).__name__}: {error}"
    return cases, skipped


def _ocr_cases(
    texts: Mapping[str, Sequence[Text]],
    *,
    quick: bool,
    cache_dir: Path,
    jobs: int | None,
    log: Log,
) -> list[Case]:
    cases: list[Case] = []
    budget = QUICK_PAGES if quick else None
    for source, items in texts.items():
        for text in items:
            if budget is not None and budget <= 0:
                return cases
            started = time.perf_counter()
            scan = tesseract(
                text.text,
                text.seed,
                tuple(OCR_KINDS.values()),
                pages=budget,
                cache=cache_dir,
                jobs=jobs,
            )
            pages = len(next(iter(scan.ocr.values())))
            log(
                f"tesseract {source}/{text.name}: {pages} of {len(scan.layout)} pages, "
                f"{scan.style}, {time.perf_counter() - started:.1f} s"
            )
            truth = unhyphenate("\f".join(scan.layout[:pages]), text.text)
            for kind, language in OCR_KINDS.items():
                damaged = "\f".join(scan.ocr[language])
                cases.append(Case(source, kind, text.name, damaged, truth, pages))
            if budget is not None:
                budget -= pages
    return cases


# --- systems -----------------------------------------------------------------------


def fold(text: str) -> str:
    """The text without diacritics, case kept: ``Är`` → ``Ar``.

    >>> fold("Åsa för idéer")
    'Asa for ideer'
    """
    return strip_diacritics(text)


@cache
def _frequent_spellings() -> dict[str, str]:
    import wordfreq

    best: dict[str, str] = {}
    for word in wordfreq.iter_wordlist("sv"):  # most frequent first
        if word.isalpha():
            best.setdefault(fold(word), word)
    return best


_TOKEN = re.compile(r"\S+")
_AFFIXES = re.compile(r"(\W*)(.*?)(\W*)", re.DOTALL)


def naive_restore(text: str) -> str:
    """Each word as the most frequent Swedish word spelt the same without diacritics.

    Capitalisation and the punctuation around a word are kept; tokens that are
    not plain words (numbers, e-mail addresses, URLs, compounds with hyphens)
    are left alone.

    >>> naive_restore("Vi ses pa Ostra torget, i ar.")
    'Vi ses på Östra torget, i är.'
    """
    spellings = _frequent_spellings()

    def restore(match: re.Match[str]) -> str:
        parts = _AFFIXES.fullmatch(match.group())
        assert parts is not None  # the pattern matches any string
        lead, core, trail = parts.groups()
        if not core.isalpha():
            return match.group()
        word = spellings.get(fold(core).lower())
        if word is None:
            return match.group()
        if len(core) > 1 and core.isupper():
            word = word.upper()
        elif core[0].isupper():
            word = word[0].upper() + word[1:]
        return f"{lead}{word}{trail}"

    return _TOKEN.sub(restore, text)


def _minutes(text: str) -> str:
    from pipeline.normalise import normalize

    return normalize(text).text


def _unchanged(text: str) -> str:
    return text


SYSTEMS: dict[str, Callable[[str], str]] = {
    "input": _unchanged,
    "ftfy": ftfy.fix_text,
    "naive": naive_restore,
    "minutes": _minutes,
}


# --- metrics -----------------------------------------------------------------------

_ENCODING = re.compile("Ã|Â|â€|â—|[\u0080-\u009f]")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(
    r"(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:se|nu|com|org|net|eu|io)\b", re.IGNORECASE
)
_SENTENCE_END = (".", "!", "?", ":")
_GROUP = 3  # at most this many tokens on one side of a merge or split
_BLOCK_LIMIT = 40_000  # cells; beyond this a differing block is paired in order


def protected(tokens: Sequence[str], line_starts: Iterable[int] = ()) -> list[str | None]:
    """What kind of token a restorer must never change, per token: url, email, number, name.

    A name is a capitalised word inside a sentence: Swedish capitalises little
    else there. Words opening a line or a sentence cannot be told from names.

    >>> protected("Mejla Karin på karin@ex.se före 12 maj. Hon".split(), [0])
    [None, 'name', None, 'email', None, 'number', None, None]
    >>> protected("• Möte med Nya steg — Att leva".split(), [0])
    [None, None, None, 'name', None, None, None, None]
    """
    starts = set(line_starts)
    kinds: list[str | None] = []
    for i, token in enumerate(tokens):
        if _EMAIL.search(token):
            kinds.append("email")
        elif _URL.search(token):
            kinds.append("url")
        elif any(ch.isdigit() for ch in token):
            kinds.append("number")
        elif token[:1].isupper() and i and i not in starts and _inside_sentence(tokens[i - 1]):
            kinds.append("name")
        else:
            kinds.append(None)
    return kinds


def _inside_sentence(previous: str) -> bool:
    # After a bullet, a heading's "###" or a dash ("2 mars — Att leva") a new
    # phrase starts, as it does after a full stop, even behind a closing quote.
    if not any(ch.isalnum() for ch in previous):
        return False
    return not previous.rstrip("\"'”’»)]").endswith(_SENTENCE_END)


def _line_starts(text: str) -> tuple[list[str], list[int]]:
    tokens: list[str] = []
    starts: list[int] = []
    for line in re.split("[\n\f]", text):
        words = line.split()
        if words:
            starts.append(len(tokens))
            tokens += words
    return tokens, starts


def _blocks(ref: Sequence[str], hyp: Sequence[str]) -> tuple[set[int], list[tuple[int, ...]]]:
    """Reference indices matched exactly, and each maximal run of differing tokens.

    A run is ``(i1, i2, j1, j2)``: ``ref[i1:i2]`` became ``hyp[j1:j2]``.
    """
    matched: set[int] = set()
    runs: list[tuple[int, ...]] = []
    current: list[int] | None = None
    for op in Levenshtein.opcodes(ref, hyp):
        if op.tag == "equal":
            matched.update(range(op.src_start, op.src_end))
            if current:
                runs.append(tuple(current))
            current = None
        elif current is None:
            current = [op.src_start, op.src_end, op.dest_start, op.dest_end]
        else:
            current[1], current[3] = op.src_end, op.dest_end
    if current:
        runs.append(tuple(current))
    return matched, runs


def _joined(tokens: Sequence[str]) -> str:
    """Tokens as one word, hyphens at breaks dropped: ``social-`` ``tjänst`` → ``socialtjänst``."""
    last = len(tokens) - 1
    return "".join(t[:-1] if i < last and _broken(t) else t for i, t in enumerate(tokens))


def _broken(token: str) -> bool:
    """A word with a hyphen where the line broke it: ``social-``, not a lone ``-``."""
    return token.endswith("-") and token[-2:-1].isalpha()


def _weight(token: str) -> float:
    # A lone speck or punctuation mark costs little, so it is taken as noise on
    # its own rather than glued to the word beside it as a merge.
    return len(token) + 1.0 if any(ch.isalnum() for ch in token) else 1.0


def _pair_up(ref: Sequence[str], hyp: Sequence[str]) -> list[tuple[range, range]]:
    """Split a run of differing tokens into 1:1, 1:n, n:1, 1:0 and 0:1 groups at least cost."""
    n, m = len(ref), len(hyp)
    if n * m > _BLOCK_LIMIT:
        k = min(n, m)
        groups = [(range(i, i + 1), range(i, i + 1)) for i in range(k)]
        groups += [(range(i, i + 1), range(m, m)) for i in range(k, n)]
        groups += [(range(n, n), range(j, j + 1)) for j in range(k, m)]
        return groups
    steps = [(1, 0), (0, 1)] + [(1, b) for b in range(1, _GROUP + 1)]
    steps += [(a, 1) for a in range(2, _GROUP + 1)]
    inf = float("inf")
    cost = [[inf] * (m + 1) for _ in range(n + 1)]
    back: list[list[tuple[int, int]]] = [[(0, 0)] * (m + 1) for _ in range(n + 1)]
    cost[0][0] = 0.0
    for i in range(n + 1):
        for j in range(m + 1):
            here = cost[i][j]
            if here == inf:
                continue
            for a, b in steps:
                if i + a > n or j + b > m:
                    continue
                if b == 0:
                    step = _weight(ref[i])
                elif a == 0:
                    step = _weight(hyp[j])
                else:
                    # Folded, so a merge that also lost its diacritics still pairs up;
                    # each extra token costs more than a stray letter taken as noise.
                    step = Levenshtein.distance(
                        fold("".join(ref[i : i + a])), fold(_joined(hyp[j : j + b]))
                    ) + 1.5 * (a + b - 2)
                if here + step < cost[i + a][j + b]:
                    cost[i + a][j + b] = here + step
                    back[i + a][j + b] = (a, b)
    found: list[tuple[range, range]] = []
    i, j = n, m
    while i or j:
        a, b = back[i][j]
        found.append((range(i - a, i), range(j - b, j)))
        i, j = i - a, j - b
    return found[::-1]


def classify(ref: Sequence[str], hyp: Sequence[str]) -> str | None:
    """The error class of truth tokens ``ref`` read as ``hyp``; ``None`` when nothing is wrong.

    >>> classify(["Är"], ["Ar"]), classify(["lösning"], ["l6sning"])
    ('diacritic', 'glyph')
    >>> classify(["Vi", "behöver"], ["Vibehover"]), classify(["samordnare"], ["samord-", "nare"])
    ('merge/split', 'hyphenation')
    >>> classify(["för"], ["fÃ¶r"]), classify(["idag"], [])
    ('encoding', 'other')
    """
    if not ref or list(ref) == list(hyp):
        return None
    if not hyp:
        return "other"
    if _ENCODING.search("".join(hyp)):
        return "encoding"
    if len(ref) == 1 and len(hyp) > 1 and any(_broken(t) for t in hyp[:-1]):
        return "hyphenation"
    if len(ref) != len(hyp):
        return "merge/split"
    return "diacritic" if fold(ref[0]) == fold(hyp[0]) else "glyph"


def damage_classes(ref: Sequence[str], hyp: Sequence[str]) -> dict[int, str]:
    """The error class of every truth token that ``hyp`` gets wrong, by truth index."""
    classes: dict[int, str] = {}
    _, runs = _blocks(ref, hyp)
    for i1, i2, j1, j2 in runs:
        for r, h in _pair_up(ref[i1:i2], hyp[j1:j2]):
            group = [ref[i1 + k] for k in r]
            kind = classify(group, [hyp[j1 + k] for k in h])
            if kind is not None:
                for k in r:
                    classes[i1 + k] = kind
    return classes


@dataclass
class Tally:
    """Error counts of one system, summed over documents."""

    words: int = 0
    word_errors: int = 0
    chars: int = 0
    char_errors: int = 0
    input_correct: int = 0
    """Truth words the damaged input already had right: what can be over-corrected."""
    over_corrections: int = 0
    protected: Counter[str] = field(default_factory=Counter)
    damaged: Counter[str] = field(default_factory=Counter)
    """Truth words wrong in the input, by error class."""
    fixed: Counter[str] = field(default_factory=Counter)
    """Of those, the ones this system got right."""
    examples: list[str] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)
    """Documents the system raised an exception on (scored as if left unchanged)."""
    seconds: float = 0.0

    def add(self, other: Tally) -> None:
        self.words += other.words
        self.word_errors += other.word_errors
        self.chars += other.chars
        self.char_errors += other.char_errors
        self.input_correct += other.input_correct
        self.over_corrections += other.over_corrections
        self.protected.update(other.protected)
        self.damaged.update(other.damaged)
        self.fixed.update(other.fixed)
        self.examples += other.examples[: max(0, EXAMPLES - len(self.examples))]
        self.crashes += other.crashes
        self.seconds += other.seconds

    @property
    def word_accuracy(self) -> float:
        return max(0.0, 1.0 - self.word_errors / self.words) if self.words else 1.0

    @property
    def cer(self) -> float:
        return self.char_errors / self.chars if self.chars else 0.0

    @property
    def over_corrections_per_2000(self) -> float:
        return 2000 * self.over_corrections / self.input_correct if self.input_correct else 0.0

    def as_json(self, input_cer: float) -> dict[str, Any]:
        return {
            "word_accuracy": round(self.word_accuracy, 5),
            "cer": round(self.cer, 5),
            "error_reduction": round(1 - self.cer / input_cer, 5) if input_cer else None,
            "words": self.words,
            "word_errors": self.word_errors,
            "chars": self.chars,
            "char_errors": self.char_errors,
            "input_correct_words": self.input_correct,
            "over_corrections": self.over_corrections,
            "over_corrections_per_2000": round(self.over_corrections_per_2000, 3),
            "protected_over_corrections": {
                kind: self.protected[kind] for kind in ("url", "email", "number", "name")
            },
            "over_correction_examples": self.examples,
            "crashes": self.crashes,
            "classes": {
                kind: {
                    "damaged": self.damaged[kind],
                    "fixed": self.fixed[kind],
                    "share_fixed": (
                        round(self.fixed[kind] / self.damaged[kind], 4)
                        if self.damaged[kind]
                        else None
                    ),
                }
                for kind in CLASSES
            },
            "seconds": round(self.seconds, 3),
        }


def score(
    damaged: str,
    truth: str,
    outputs: Mapping[str, str],
    *,
    name: str = "",
    examples: bool = True,
) -> dict[str, Tally]:
    """Score each system's output of one damaged text against its truth."""
    ref, starts = _line_starts(truth)
    kinds = protected(ref, starts)
    given = damaged.split()
    input_ok, _ = _blocks(ref, given)
    classes = damage_classes(ref, given)
    reference = collapse(truth)
    tallies: dict[str, Tally] = {}
    for system, output in outputs.items():
        hyp = output.split()
        ok, runs = _blocks(ref, hyp)
        tally = Tally(
            words=len(ref),
            word_errors=Levenshtein.distance(hyp, ref),
            chars=len(reference),
            char_errors=Levenshtein.distance(collapse(output), reference),
            input_correct=len(input_ok),
        )
        wrong = sorted(input_ok - ok)
        tally.over_corrections = len(wrong)
        tally.protected.update(kind for i in wrong if (kind := kinds[i]) is not None)
        for i, kind in classes.items():
            tally.damaged[kind] += 1
            if i in ok:
                tally.fixed[kind] += 1
        if examples:
            where = f"{name}: " if name else ""
            for i in wrong[:EXAMPLES]:
                became = next((hyp[j1:j2] for i1, i2, j1, j2 in runs if i1 <= i < i2), [])
                tally.examples.append(f"{where}{ref[i]} → {' '.join(became) or '(deleted)'}")
        tallies[system] = tally
    return tallies


# --- the run -------------------------------------------------------------------------


def evaluate(
    cases: Iterable[Case],
    systems: Mapping[str, Callable[[str], str]] = SYSTEMS,
) -> dict[str, dict[str, Any]]:
    """Every system on every case; figures per source × damage kind × system."""
    totals: dict[tuple[str, str], dict[str, Tally]] = {}
    counts: dict[tuple[str, str], Counter[str]] = {}
    for case in cases:
        outputs: dict[str, str] = {}
        seconds: dict[str, float] = {}
        crashed: dict[str, str] = {}
        for system, restore in systems.items():
            started = time.perf_counter()
            try:
                outputs[system] = restore(case.damaged)
            except Exception as error:  # scored as if unchanged; --check fails on it
                outputs[system] = case.damaged
                crashed[system] = f"{case.name}: {type(error).__name__}: {error}"
            seconds[system] = time.perf_counter() - started
        scored = score(
            case.damaged,
            case.truth,
            outputs,
            name=case.name,
            examples=case.source in EXAMPLES_FROM,
        )
        key = (case.source, case.kind)
        into = totals.setdefault(key, {system: Tally() for system in systems})
        for system, tally in scored.items():
            tally.seconds = seconds[system]
            if system in crashed:
                tally.crashes.append(crashed[system])
            into[system].add(tally)
        counts.setdefault(key, Counter()).update(documents=1, pages=case.pages)
    results: dict[str, dict[str, Any]] = {}
    for source in (*SOURCES, GOLD_SOURCE):
        kinds = [kind for kind in KINDS if (source, kind) in totals]
        if not kinds:
            continue
        results[source] = {}
        overall = {system: Tally() for system in systems}
        for kind in kinds:
            tallies = totals[(source, kind)]
            input_cer = tallies["input"].cer if "input" in tallies else 0.0
            entry: dict[str, Any] = {
                "documents": counts[(source, kind)]["documents"],
                "words": next(iter(tallies.values())).words,
            }
            if kind in OCR_KINDS:
                entry["pages"] = counts[(source, kind)]["pages"]
            entry["systems"] = {s: t.as_json(input_cer) for s, t in tallies.items()}
            results[source][kind] = entry
            for system, tally in tallies.items():
                overall[system].add(tally)
        input_cer = overall["input"].cer if "input" in overall else 0.0
        results[source]["all"] = {
            "documents": sum(counts[(source, kind)]["documents"] for kind in kinds),
            "words": next(iter(overall.values())).words,
            "systems": {s: t.as_json(input_cer) for s, t in overall.items()},
        }
    return results


def check(results: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The targets ``minutes`` misses, one line each; empty when all are met."""
    failures: list[str] = []
    for source, kinds in results.items():
        for kind, entry in kinds.items():
            mine, given = entry["systems"]["minutes"], entry["systems"]["input"]
            where = f"{source}/{kind}"
            target = WORD_ACCURACY_TARGETS.get(kind)
            if target is not None and mine["word_accuracy"] < target:
                failures.append(
                    f"{where}: word accuracy {_pct(mine['word_accuracy'])} < {_pct(target)}"
                )
            if kind != "all" and mine["word_accuracy"] < given["word_accuracy"]:
                failures.append(
                    f"{where}: word accuracy {_pct(mine['word_accuracy'])} is worse than the "
                    f"input's {_pct(given['word_accuracy'])}"
                )
            if kind == "all":
                if mine["crashes"]:
                    failures.append(f"{where}: crashed on {len(mine['crashes'])} document(s)")
                rate = mine["over_corrections_per_2000"]
                if rate > MAX_OVER_CORRECTIONS_PER_2000:
                    failures.append(
                        f"{where}: {rate:.2f} over-corrections per 2,000 correct words "
                        f"> {MAX_OVER_CORRECTIONS_PER_2000:g}"
                    )
                for what, n in mine["protected_over_corrections"].items():
                    if n:
                        failures.append(f"{where}: {n} over-corrected {what} token(s)")
    return failures


def run(
    *,
    quick: bool = False,
    out: Path | None = DEFAULT_OUT,
    ocr: bool = True,
    fixtures: Path = FIXTURES,
    texts: Path = TEXTS,
    shared: Path = SHARED,
    cache_dir: Path = DEFAULT_CACHE,
    jobs: int | None = None,
    systems: Mapping[str, Callable[[str], str]] = SYSTEMS,
    log: Log = lambda _: None,
) -> Report:
    """Build every case, score every system, check the targets, write the report."""
    started = time.perf_counter()
    found = load_texts(fixtures, texts)
    cases, skipped = build_cases(
        found, quick=quick, ocr=ocr, cache_dir=cache_dir, jobs=jobs, log=log
    )
    gold = gold_case(shared)
    if isinstance(gold, Case):
        cases.append(gold)
    else:
        skipped[GOLD_SOURCE] = gold
    results = evaluate(cases, systems)
    failures = check(results)
    report: Report = {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "tesseract": _tesseract_version(),
        "sources": {
            source: {
                "path": _shown(fixtures if source == "fixtures" else texts / source),
                "documents": len(items),
                "words": sum(len(text.text.split()) for text in items),
            }
            for source, items in found.items()
        },
        "skipped": skipped,
        "targets": {
            "word_accuracy": WORD_ACCURACY_TARGETS,
            "never_worse_than_input": "every damage kind",
            "max_over_corrections_per_2000": MAX_OVER_CORRECTIONS_PER_2000,
            "protected_over_corrections": 0,
        },
        "results": results,
        "check": {"passed": not failures, "failures": failures},
    }
    report["seconds"] = round(time.perf_counter() - started, 1)
    if out is not None:
        write_report(report, out)
    return report


def write_report(report: Report, path: Path) -> None:
    """Write the report as JSON, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def markdown(report: Report) -> str:
    """The report as Markdown tables: one per source, then restored shares by error class."""
    systems = list(SYSTEMS)
    out: list[str] = []
    for source, kinds in report["results"].items():
        total = kinds["all"]
        first = next(entry for kind, entry in kinds.items() if kind != "all")
        texts = f"{first['documents']} text" + ("s" if first["documents"] != 1 else "")
        out.append(f"**{source}** ({texts}, {first['words']:,} words): word accuracy / CER")
        out.append("")
        out.append(f"| damage | {' | '.join(systems)} | minutes over-corrections per 2,000 |")
        out.append("|---" + "|---:" * (len(systems) + 1) + "|")
        for kind, entry in kinds.items():
            if kind == "all":
                continue
            scores = [entry["systems"][s] for s in systems]
            cells = [f"{_pct(s['word_accuracy'])} / {_pct(s['cer'], 2)}" for s in scores]
            mine = entry["systems"]["minutes"]
            cells.append(f"{mine['over_corrections_per_2000']:.2f} ({mine['over_corrections']})")
            label = f"{kind} ({entry['pages']} pages)" if "pages" in entry else kind
            out.append(f"| {label} | {' | '.join(cells)} |")
        out.append("")
        out.append("Damaged words restored, by error class (all damage kinds):")
        out.append("")
        restorers = [s for s in systems if s != "input"]
        out.append(f"| class | damaged | {' | '.join(restorers)} |")
        out.append("|---|---:" + "|---:" * len(restorers) + "|")
        classes = {s: total["systems"][s]["classes"] for s in restorers}
        for kind in CLASSES:
            damaged = classes["minutes"][kind]["damaged"]
            if not damaged:
                continue
            shares = [_pct(classes[s][kind]["share_fixed"]) for s in restorers]
            out.append(f"| {kind} | {damaged} | {' | '.join(shares)} |")
        out.append("")
    out.append(
        "`input` is the damaged text itself; in the tesseract rows it is Tesseract's raw output."
    )
    for source, kinds in report["results"].items():
        for system, figures in kinds["all"]["systems"].items():
            if figures["crashes"]:
                out.append(
                    f"\n**{system} crashed** on {len(figures['crashes'])} {source} document(s), "
                    f"scored as unchanged: {figures['crashes'][0]}"
                )
    return "\n".join(out)


def _pct(value: float, digits: int = 1) -> str:
    return f"{100 * value:.{digits}f} %"


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _tesseract_version() -> str | None:
    try:
        from pipeline._exec.tesseract import version

        return version()
    except Exception:  # the version is information only
        return None
