"""Batch stage: run every source of a folder through the stages and write the outputs.

The main process finds the sources, hashes them, looks each up in the cache
(:mod:`pipeline.manifest`), hands what is missing to the workers of a
:class:`~pipeline._concurrent.Runner`, and writes every output; workers only
compute. For each source:

1. *draft*: read it as far as it goes without OCR (text, PDF text layers,
   which pages are scans); then *OCR* every scanned page as a task of its own,
   so the pages of one long scan keep every core busy;
2. once every source is drafted, the batch's clean documents (born-digital,
   diacritics intact) are known: they are the evidence that teaches the
   normaliser the archive's names and phrasing, the same whether a document
   was extracted now or taken from the cache;
3. *clean* (normalise and segment) each document as soon as it is whole.

Then documents.csv, corrections.csv and the tables are written, text outputs
whose source is gone are removed, and the run is recorded in the manifest.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, TextIO, TypeVar

from tqdm import tqdm  # type: ignore[import-untyped]

from pipeline import _concurrent, manifest
from pipeline._cluster import Cluster, Ship, shipped
from pipeline.exceptions import MinutesError, UsageError, describe
from pipeline.export import write_atomic, write_csv
from pipeline.extract import (
    Draft,
    OcrOptions,
    Recognised,
    draft,
    read_source,
    recognise,
    source_digest,
)
from pipeline.normalise import Normalizer, default_normalizer, fix_encoding_stage
from pipeline.records import Change, Document, Page, PageKind
from pipeline.review import image_path, write_review
from pipeline.segment import segment
from pipeline.segment.model import Segmented
from pipeline.tables import build_tables, write_tables

DOCUMENT_FIELDS = (
    "source",
    "sha256",
    "kind",
    "pages",
    "ocr_pages",
    "mean_ocr_confidence",
    "encoding",
    "status",
    "error",
)


CORRECTION_FIELDS = (
    "source",
    "page",
    "line",
    "column",
    "original",
    "replacement",
    "stage",
    "confidence",
    "applied",
    "alternatives",
)

MAX_EVIDENCE = 200
"""Clean documents of a batch that teach the normaliser the archive's words and phrasing."""

TaskKey = tuple[str, int, int]
"""A task's key: (stage, index of the source, page number or 0)."""
R = TypeVar("R")

# Drafts first: they reveal the OCR work and settle the evidence. Cleaning next, as
# documents become whole, so outputs appear (and survive a kill) as early as they can;
# the long OCR pages fill the workers in between.
_DRAFT, _CLEAN, _OCR = 0, 1, 2
_WINDOW = 4
"""Documents per worker whose OCR pages are scheduled together, longest first."""


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Everything that decides what a run produces."""

    ocr: OcrOptions = field(default_factory=OcrOptions)
    threshold: float | None = None
    """Confidence below which a correction is only proposed (``None``: the normaliser's)."""
    protect: tuple[str, ...] = ()
    """Words never to change, besides the user lexicon's."""


class Work(StrEnum):
    """How much of a document a run had to redo."""

    EXTRACTED = "extracted"
    """Read (and OCR'd) in this run."""
    RENORMALISED = "renormalised"
    """Extraction taken from the cache; normalised and segmented again."""
    UNCHANGED = "unchanged"
    """Everything taken from the cache."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What processing one source produced: a document, or the reason it failed."""

    source: str
    """Path relative to the raw folder, with ``/`` separators."""
    document: Document | None
    text: str | None
    error: str | None = None
    changes: tuple[Change, ...] = ()
    segmented: Segmented | None = None
    work: Work | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def row(self) -> dict[str, object]:
        doc = self.document
        confidence = doc.mean_ocr_confidence if doc else None
        return {
            "source": self.source,
            "sha256": doc.sha256 if doc else None,
            "kind": doc.kind.value if doc else None,
            "pages": len(doc.pages) if doc else None,
            "ocr_pages": doc.ocr_pages if doc else None,
            "mean_ocr_confidence": f"{confidence:.1f}" if confidence is not None else None,
            "encoding": doc.encoding if doc else None,
            "status": "ok" if self.ok else "failed",
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class RunResult:
    outcomes: tuple[Outcome, ...]

    @property
    def failed(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if not o.ok)

    def count(self, work: Work) -> int:
        return sum(1 for o in self.outcomes if o.work is work)


@dataclass(frozen=True, slots=True)
class Cleaned:
    """What cleaning one document produced; cached as is."""

    text: str
    changes: tuple[Change, ...]
    segmented: Segmented


# --------------------------------------------------------------------------- sources


@dataclass(frozen=True, slots=True)
class Source:
    """One entry found under the raw folder."""

    path: Path
    name: str
    """Path relative to the raw folder, ``/``-separated and printable: its key in every output."""
    problem: str | None = None
    """Why it cannot be processed at all."""


def printable(name: str) -> str:
    """``name`` with undecodable bytes and control characters escaped, fit for CSV and logs.

    >>> printable("m\\udcf6te\\nny.txt")
    'm\\\\xf6te\\\\nny.txt'
    """
    text = os.fsencode(name).decode("utf-8", "backslashreplace")
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text
    )


def discover(raw: Path, out: Path | None = None) -> list[Source]:
    """Sources under ``raw`` in a stable order; hidden entries and ``out`` are skipped.

    Symbolic links to files are read through; links to folders are not followed
    (one may loop, or lead anywhere on the disk) and are listed with that problem.
    """
    skip = _resolved(out) if out is not None else None
    found: list[Source] = []
    for folder, dirs, files in os.walk(raw, followlinks=False):
        here = Path(folder)
        kept: list[str] = []
        for name in sorted(dirs):
            path = here / name
            if name.startswith("."):
                continue
            if path.is_symlink():
                found.append(_source(raw, path, "symbolic link to a folder, not followed"))
            elif skip is None or _resolved(path) != skip:
                kept.append(name)
        dirs[:] = kept
        found.extend(_source(raw, here / name) for name in files if not name.startswith("."))
    found.sort(key=lambda s: s.name)
    seen: set[str] = set()
    for n, source in enumerate(found):
        if source.name in seen:  # two names differing only in bytes that printable() escapes
            found[n] = replace(
                source,
                name=f"{source.name} ({n})",
                problem="its name clashes with another's once made printable",
            )
        seen.add(found[n].name)
    return found


def _source(raw: Path, path: Path, problem: str | None = None) -> Source:
    return Source(path=path, name=printable(path.relative_to(raw).as_posix()), problem=problem)


def _resolved(path: Path) -> Path | None:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop on the way
        return None


def text_path(out: Path, relative: str) -> Path:
    """Where the cleaned text of a source goes: ``OUT/text/<source>.txt``."""
    return out / "text" / f"{relative}.txt"


# --------------------------------------------------------------------------- tasks (run in workers)


def clean(
    text: str, ocr: bool, source: str, options: RunOptions, evidence: tuple[str, ...] = ()
) -> Cleaned:
    """Normalise and segment the text of one extracted document."""
    normalized = _normalizer(evidence)(
        text, protect=options.protect, threshold=options.threshold, ocr=ocr
    )
    return Cleaned(
        text=normalized.text,
        changes=normalized.changes,
        segmented=segment(normalized.text, source=source),
    )


_LEARNED: dict[int, Normalizer] = {}


def _normalizer(evidence: tuple[str, ...]) -> Normalizer:
    """The process's normaliser, taught the batch's clean documents once per batch."""
    if not evidence:
        return default_normalizer()
    key = hash(evidence)
    if key not in _LEARNED:
        _LEARNED.clear()
        taught = Normalizer.load()
        taught.learn(evidence)
        _LEARNED[key] = taught
    return _LEARNED[key]


def is_clean(document: Document) -> bool:
    """Born-digital text (no OCR) that kept its diacritics: evidence for the others."""
    if any(page.kind is PageKind.OCR for page in document.pages):
        return False
    text = document.text
    letters = sum(ch.isalpha() for ch in text)
    swedish = sum(ch in "åäöÅÄÖ" for ch in text)
    # Swedish prose has ~3 % å/ä/ö among its letters; mojibake has "Ã" instead.
    return letters > 200 and swedish / letters > 0.015 and "Ã" not in text


# --------------------------------------------------------------------------- progress


class Progress:
    """Where a run reports: a line per failure; subclasses show progress too."""

    def __init__(self, report: Callable[[str], None] | None = None) -> None:
        self._report = report or _stderr

    def start(self, total: int) -> None:
        """The run has ``total`` sources."""

    def page(self) -> None:
        """A page was OCR'd."""

    def done(self, outcome: Outcome) -> None:
        """A source is finished, for good or ill."""

    def error(self, line: str) -> None:
        self._report(line)

    def close(self) -> None:
        """The run is over."""


class LogProgress(Progress):
    """One plain line per document, for logs and CI."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(self._print)
        self._stream = stream
        self._total = self._count = 0

    def _print(self, line: str) -> None:
        print(line, file=self._stream, flush=True)

    def start(self, total: int) -> None:
        self._total = total

    def done(self, outcome: Outcome) -> None:
        self._count += 1
        if outcome.ok and outcome.document is not None:
            self._print(
                f"minutes: [{self._count}/{self._total}] {outcome.source}: {_summary(outcome)}"
            )


class BarProgress(Progress):
    """A progress bar on a terminal: files, pages, rate and time left."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(self._write)
        self._stream = stream
        self._bar: Any = None
        self._pages = self._ocr = 0

    def _write(self, line: str) -> None:
        tqdm.write(line, file=self._stream)  # above the bar, which is redrawn below

    def start(self, total: int) -> None:
        # tqdm's monitor thread may be writing to the terminal when the pool forks new
        # workers, which would then inherit a held lock; a bar without it is as good.
        tqdm.monitor_interval = 0
        self._bar = tqdm(
            total=total, unit="file", desc="minutes", file=self._stream, dynamic_ncols=True
        )

    def page(self) -> None:
        self._ocr += 1
        self._postfix()

    def done(self, outcome: Outcome) -> None:
        self._pages += len(outcome.document.pages) if outcome.document else 0
        if self._bar is not None:
            self._bar.update(1)
        self._postfix()

    def _postfix(self) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(f"{self._pages} pages, {self._ocr} OCR'd now")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def progress_for(stream: TextIO, *, quiet: bool = False) -> Progress:
    """A bar on a terminal, plain lines elsewhere, only errors when ``quiet``."""
    if quiet:
        return Progress(lambda line: print(line, file=stream, flush=True))
    if stream.isatty():
        return BarProgress(stream)
    return LogProgress(stream)


def _summary(outcome: Outcome) -> str:
    doc = outcome.document
    assert doc is not None
    pages = f"{len(doc.pages)} page{'s' if len(doc.pages) != 1 else ''}"
    if doc.ocr_pages:
        pages += f" ({doc.ocr_pages} OCR)"
    if outcome.work is Work.UNCHANGED:
        return f"{pages}, unchanged"
    if outcome.work is Work.RENORMALISED:
        return f"{pages}, normalised again"
    return pages


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- the run


def run(
    raw: Path,
    out: Path,
    options: RunOptions | None = None,
    *,
    jobs: int | None = None,
    force: bool = False,
    report: Callable[[str], None] | None = None,
    progress: Progress | None = None,
    cluster: Cluster | None = None,
    ship: Ship = "path",
) -> RunResult:
    """Process every source under ``raw`` and write the outputs under ``out``.

    A source that fails gets a ``failed`` row and a line through ``progress``
    (or ``report``; stderr by default); the others are processed all the same.
    What an earlier run into ``out`` already did is reused unless ``force``.
    With a ``cluster`` the tasks run on its workers, which read the sources at
    their paths (``ship="path"``) or get them sent as bytes (``"bytes"``);
    this process alone writes the outputs either way.
    """
    options = options or RunOptions()
    progress = progress or Progress(report)
    _check_folders(raw, out)
    with manifest.locked(out) as store:
        store.sweep()
        previous = store.read_manifest()
        sources = discover(raw, out)
        keys = manifest.Keys.for_extraction(options.ocr)
        # Recorded before any text is written, so a killed run's outputs are known to the next.
        owned = set(previous.outputs) | {_text_output(s.name) for s in sources}
        store.write_manifest(replace(previous, complete=False, outputs=tuple(sorted(owned))))
        workers = (jobs, None) if cluster is None else (cluster.threads, cluster.factory)
        with _concurrent.Runner[TaskKey](workers[0], factory=workers[1]) as runner:
            progress.start(len(sources))
            try:
                batch = _Batch(raw, out, options, store, keys, runner, progress, force)
                batch.ship_bytes = ship == "bytes"
                docs = batch.run(sources)
            finally:
                progress.close()
        outcomes = [doc.outcome for doc in docs if doc.outcome is not None]
        write_csv(out / "documents.csv", DOCUMENT_FIELDS, (o.row() for o in outcomes))
        write_csv(
            out / "corrections.csv",
            CORRECTION_FIELDS,
            (row for o in outcomes for row in correction_rows(o)),
        )
        segmented = [(o.source, o.segmented) for o in outcomes if o.segmented is not None]
        write_tables(out, build_tables(segmented))
        write_review(
            out,
            outcomes,
            {source.name: source.path for source in sources},
            jobs=jobs if cluster is None else None,
        )
        produced = {_text_output(o.source) for o in outcomes if o.ok}
        _remove_outputs(out, owned - produced)
        store.write_manifest(
            manifest.Manifest(
                complete=True,
                lexicons=batch.lexicons,
                sources={doc.source.name: doc.entry() for doc in docs},
                outputs=tuple(sorted(produced)),
            )
        )
        store.prune(_live(docs, batch.keys))
    return RunResult(outcomes=tuple(outcomes))


def _check_folders(raw: Path, out: Path) -> None:
    if not raw.is_dir():
        raise UsageError(f"{raw}: not a folder")
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: not a folder")
    raw_at, out_at = raw.resolve(), out.resolve()
    if raw_at == out_at or any(
        raw_at.is_relative_to(out_at / folder) for folder in ("text", manifest.CACHE_DIR)
    ):
        raise UsageError(f"{raw} lies where the outputs go; choose another --out than {out}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"{out}: cannot create it ({error.strerror or error})") from error
    if not os.access(out, os.W_OK | os.X_OK):
        raise UsageError(f"{out}: not writable")


def _text_output(name: str) -> str:
    return f"text/{name}.txt"


def _remove_outputs(out: Path, stale: set[str]) -> None:
    """Remove text outputs whose source is gone or failed, and folders left empty."""
    root = _resolved(out / "text")
    for relative in sorted(stale):
        path = out / relative
        parent = _resolved(path.parent)
        if root is None or parent is None or not parent.is_relative_to(root):
            continue  # never outside OUT/text, whatever the manifest says
        if path.is_file() and not path.is_symlink():
            path.unlink()
        while parent != root:
            try:
                parent.rmdir()  # only if empty
            except OSError:
                break
            parent = parent.parent


@dataclass
class _Doc:
    """The state of one source while the run works on it."""

    source: Source
    sha256: str | None = None
    draft: Draft | None = None
    recognised: dict[int, Page] = field(default_factory=dict)
    document: Document | None = None
    document_key: str | None = None
    extracted: bool = False
    cleaned_key: str | None = None
    outcome: Outcome | None = None

    def entry(self) -> manifest.Entry:
        outcome = self.outcome
        ok = outcome is not None and outcome.ok
        return manifest.Entry(
            sha256=self.document.sha256 if self.document else self.sha256,
            status="ok" if ok else "failed",
            error=outcome.error if outcome else None,
            document=self.document_key if self.document else None,
            cleaned=self.cleaned_key if ok else None,
            text=_text_output(self.source.name) if ok else None,
        )


def _live(docs: list[_Doc], keys: manifest.Keys) -> dict[str, set[str]]:
    """The cache entries this run's results rest on; the rest is pruned."""
    live: dict[str, set[str]] = {section: set() for section in manifest.SECTIONS}
    for doc in docs:
        if doc.document is not None and doc.document_key is not None:
            live[manifest.DOCUMENTS].add(doc.document_key)
        elif doc.draft is not None:  # failed on a page: keep the others for the next try
            live[manifest.PAGES] |= {keys.page(doc.draft.sha256, n) for n in doc.draft.pending}
        if doc.cleaned_key is not None and doc.outcome is not None and doc.outcome.ok:
            live[manifest.CLEANED].add(doc.cleaned_key)
    return live


class _Batch:
    """Drives the sources of one run through the stages; the main process's side of it."""

    def __init__(
        self,
        raw: Path,
        out: Path,
        options: RunOptions,
        store: manifest.Store,
        keys: manifest.Keys,
        runner: _concurrent.Runner[TaskKey],
        progress: Progress,
        force: bool,
    ) -> None:
        self.raw, self.out, self.options = raw, out, options
        self.store, self.keys, self.runner = store, keys, runner
        self.progress, self.force = progress, force
        self.docs: list[_Doc] = []
        self.drafting = 0
        self.evidence: tuple[str, ...] | None = None
        self.evidence_key = ""
        self.lexicons = ""
        self.user_entries: list[tuple[str, str]] = []
        """The user lists' words, each of which is a cache key of the documents it can touch."""
        self.text_root = _resolved(out / "text") or out / "text"
        self.ship_bytes = False
        """Send each source's content with its tasks, for workers that share no storage."""

    def _submit_on_source(
        self, key: TaskKey, fn: Callable[..., Any], path: Path, *args: Any, priority: Any
    ) -> None:
        """Submit ``fn(path, *args)``, or its shipped form when workers cannot see ``path``."""
        if self.ship_bytes:
            data = read_source(path)
            self.runner.submit(key, shipped, fn, str(path), data, *args, priority=priority)
        else:
            self.runner.submit(key, fn, path, *args, priority=priority)

    def run(self, sources: list[Source]) -> list[_Doc]:
        self.docs = [_Doc(source) for source in sources]
        for index in range(len(self.docs)):
            self._start(index)
        if self.drafting == 0:
            self._drafted()
        for done in self.runner:
            stage, index, number = done.key
            if stage == "draft":
                self._on_draft(index, done)
            elif stage == "page":
                self._on_page(index, number, done)
            else:
                self._on_clean(index, done)
        return self.docs

    # ----------------------------------------------------------------- stages

    def _start(self, index: int) -> None:
        doc = self.docs[index]
        if doc.source.problem:
            self._fail(index, f"{self._shown(doc)}: {doc.source.problem}")
            return
        try:
            doc.sha256 = source_digest(doc.source.path)
        except MinutesError as error:
            self._fail(index, describe(error, self._shown(doc)))
            return
        key = self.keys.document(doc.sha256)
        cached = self._load(manifest.DOCUMENTS, key, Document, source=str(doc.source.path))
        if cached is not None:
            doc.document, doc.document_key = cached, key
            return
        self.drafting += 1
        self._submit_on_source(
            ("draft", index, 0), draft, doc.source.path, self.options.ocr, priority=_DRAFT
        )

    def _on_draft(self, index: int, done: _concurrent.Done[TaskKey]) -> None:
        doc = self.docs[index]
        self.drafting -= 1
        if done.error is not None:
            self._failed(index, done.error)
        else:
            drafted: Draft = done.value
            doc.draft = drafted
            doc.document_key = self.keys.document(drafted.sha256)
            for number in drafted.pending:
                page = self._load(manifest.PAGES, self.keys.page(drafted.sha256, number), Page)
                if page is not None:
                    doc.recognised[number] = page
                else:
                    self._submit_on_source(
                        ("page", index, number),
                        recognise,
                        doc.source.path,
                        drafted.kind,
                        number,
                        self.options.ocr,
                        # The page is decoded for OCR anyway: its review image costs
                        # little more there, and a render of its own after the pool.
                        not image_path(self.out, drafted.sha256, number).exists(),
                        priority=self._ocr_priority(index, drafted, number),
                    )
            self._whole(index)
        if self.drafting == 0:
            self._drafted()

    def _ocr_priority(self, index: int, drafted: Draft, number: int) -> tuple[float, ...]:
        """Longest pages first among a window of documents (longest-processing-time
        scheduling), so a batch does not end on one core with a full page while the
        others idle; windows keep a long batch finishing its documents in order."""
        window = index // (_WINDOW * self.runner.jobs)
        return (_OCR, window, -drafted.weight(number), index, number)

    def _on_page(self, index: int, number: int, done: _concurrent.Done[TaskKey]) -> None:
        doc = self.docs[index]
        if done.error is not None:
            self._failed(index, done.error)
            return
        assert doc.draft is not None
        recognised: Recognised = done.value
        page = recognised.page
        if recognised.preview is not None:
            write_atomic(image_path(self.out, doc.draft.sha256, number), recognised.preview)
        # Kept even when another page failed: the next run need not redo it.
        self.store.save(manifest.PAGES, self.keys.page(doc.draft.sha256, number), page)
        doc.recognised[number] = page
        self.progress.page()
        self._whole(index)

    def _whole(self, index: int) -> None:
        """Assemble a drafted document once its last page is recognised."""
        doc = self.docs[index]
        if doc.outcome is not None or doc.draft is None or doc.document is not None:
            return
        if len(doc.recognised) < len(doc.draft.pending):
            return
        doc.document = doc.draft.complete(doc.recognised)
        doc.extracted = True
        assert doc.document_key is not None
        self.store.save(manifest.DOCUMENTS, doc.document_key, doc.document, omit=("source",))
        if self.evidence is not None:
            self._clean(index)

    def _drafted(self) -> None:
        """Every source is drafted: settle the evidence and clean what is whole."""
        # Cleaning needs the normaliser, and its lexicons' hash for the cache keys. The
        # main process loads it (and readies the segmenter's tokenizer) while the workers
        # start on the first OCR pages, then renews them: workers forked from it now
        # share both instead of each loading them.
        self.runner.dispatch()
        normalizer = default_normalizer()
        self.lexicons = manifest.lexicons_digest(normalizer)
        lexicon = normalizer.lexicon
        self.user_entries = [("accept", word) for word in sorted(lexicon.accepted)]
        self.user_entries += [("protect", word) for word in sorted(lexicon.protected)]
        segment("Närvarande\n", source="")
        self.keys = self.keys.for_cleaning(
            lexicons=self.lexicons, threshold=self.options.threshold, protect=self.options.protect
        )
        self.runner.renew()
        self.evidence = tuple(
            doc.document.text
            for doc in self.docs
            if doc.document is not None and doc.outcome is None and is_clean(doc.document)
        )[:MAX_EVIDENCE]
        self.evidence_key = manifest.digest(*self.evidence)
        for index, doc in enumerate(self.docs):
            if doc.document is not None and doc.outcome is None:
                self._clean(index)

    def _clean(self, index: int) -> None:
        doc = self.docs[index]
        assert doc.document is not None and doc.document_key is not None
        assert self.evidence is not None
        text = doc.document.text
        # The words the normaliser sees are those of the text with its encoding repaired.
        repaired = fix_encoding_stage(text)[0] if self.user_entries else text
        user = manifest.user_digest(self.user_entries, text, repaired)
        doc.cleaned_key = self.keys.cleaned(
            doc.document_key, doc.source.name, self.evidence_key, user
        )
        cached = self._load(manifest.CLEANED, doc.cleaned_key, Cleaned)
        if cached is not None:
            self._finish(index, cached)
            return
        self.runner.submit(
            ("clean", index, 0),
            clean,
            doc.document.text,
            doc.document.ocr_pages > 0,
            doc.source.name,
            self.options,
            self.evidence,
            priority=_CLEAN,
        )

    def _on_clean(self, index: int, done: _concurrent.Done[TaskKey]) -> None:
        doc = self.docs[index]
        if done.error is not None:
            self._failed(index, done.error)
            return
        cleaned: Cleaned = done.value
        assert doc.cleaned_key is not None
        self.store.save(manifest.CLEANED, doc.cleaned_key, cleaned)
        self._finish(index, cleaned, fresh=True)

    def _finish(self, index: int, cleaned: Cleaned, *, fresh: bool = False) -> None:
        doc = self.docs[index]
        target = text_path(self.out, doc.source.name)
        try:
            self._write_text(target, cleaned.text)
        except (OSError, UnicodeError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            self._fail(index, f"{self._shown(doc)}: cannot write {target}: {reason}")
            return
        work = Work.UNCHANGED
        if doc.extracted or fresh:
            work = Work.EXTRACTED if doc.extracted else Work.RENORMALISED
        doc.outcome = Outcome(
            source=doc.source.name,
            document=doc.document,
            text=cleaned.text,
            changes=cleaned.changes,
            segmented=cleaned.segmented,
            work=work,
        )
        self.progress.done(doc.outcome)

    # ----------------------------------------------------------------- helpers

    def _load(self, section: str, key: str, tp: type[R], **extra: str) -> R | None:
        return None if self.force else self.store.load(section, key, tp, **extra)

    def _write_text(self, target: Path, text: str) -> None:
        """Write a text output atomically, unless it already holds exactly this text."""
        if not target.parent.resolve().is_relative_to(self.text_root):
            raise OSError(f"{target.parent} leads outside {self.out / 'text'}")
        data = text.encode("utf-8")
        try:
            if target.read_bytes() == data:
                return
        except OSError:
            pass
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, text)

    def _shown(self, doc: _Doc) -> Path:
        return Path(printable(str(self.raw))) / doc.source.name

    def _failed(self, index: int, error: BaseException) -> None:
        doc = self.docs[index]
        if isinstance(error, _concurrent.WorkerCrashed):
            message = f"{self._shown(doc)}: a worker process died on it (a library crashed)"
        else:
            message = describe(error, self._shown(doc))
        self._fail(index, message)

    def _fail(self, index: int, message: str) -> None:
        doc = self.docs[index]
        if doc.outcome is not None:
            return
        doc.outcome = Outcome(source=doc.source.name, document=None, text=None, error=message)
        self.progress.error(f"minutes: {message}")
        self.progress.done(doc.outcome)


def correction_rows(outcome: Outcome) -> Iterator[dict[str, object]]:
    """The audit trail of one document, one row per change made or proposed."""
    for change in outcome.changes:
        yield {
            "source": outcome.source,
            "page": change.page,
            "line": change.line,
            "column": change.column,
            "original": change.original,
            "replacement": change.replacement,
            "stage": change.stage,
            "confidence": f"{change.confidence:.3f}",
            "applied": "true" if change.applied else "false",
            "alternatives": json.dumps(
                [[text, score] for text, score in change.alternatives], ensure_ascii=False
            ),
        }
