"""The review report: every correction beside the page, for an archivist to sign off.

:func:`write_review` writes, under ``OUT/review/``:

- ``index.html``: the batch at a glance (pages, OCR confidence, corrections by stage,
  proposals, failures) with a link to each document;
- ``doc/<source>-<hash>.html``: one page per document, each page image (PDFs and image
  scans) beside the cleaned text, line for line; every applied correction highlighted and
  coloured by confidence, with the original, stage and confidence on hover; every proposal
  (not applied, below the threshold) outlined with its suggested reading;
- ``img/<sha256>-p<page>.jpg``: the page images, about 100 dpi, named by the source's
  content so a later run reuses them;
- ``decisions.csv``: one row per distinct word correction with an empty ``decision``
  column for the archivist to fill in and feed back with ``minutes lexicon decisions``
  (see :mod:`pipeline.teach`).

Static HTML with inline CSS, no script and no external resource, so it opens offline in
any browser; every piece of document text is escaped, and a Content-Security-Policy forbids
scripts besides. The output depends only on its inputs (no timestamps); files whose content
is unchanged are not rewritten, and files of documents no longer in the batch are removed.
"""

from __future__ import annotations

import hashlib
import html
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from PIL import Image

from pipeline.exceptions import MinutesError
from pipeline.export import csv_text, write_atomic
from pipeline.extract.preview import page_preview
from pipeline.normalise.lexicon import fold
from pipeline.records import Change, PageKind, SourceKind
from pipeline.teach import DECISION_FIELDS, FORMULA_START, read_decisions

if TYPE_CHECKING:
    from pipeline.batch import Outcome

__all__ = ["HIGH", "MEDIUM", "STAGES", "place", "write_review"]

STAGES = ("encoding", "bullets", "specks", "hyphenation", "words")
"""The normaliser's stages in the order they run; a stage not listed sorts after them."""

HIGH = 0.95
"""Applied corrections at least this confident are shown green ..."""
MEDIUM = 0.8
"""... at least this confident yellow, the rest orange."""

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_SLUG = re.compile(r"[^A-Za-z0-9._-]+")

CSS = """\
:root{color-scheme:light;--hi:#c6efce;--mid:#ffe699;--lo:#ffc09a;--prop:#c2185b;--line:#ddd}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
color:#1d1d1f;background:#f5f5f3}
header{padding:12px 24px 10px;background:#fff;border-bottom:1px solid var(--line)}
header a{color:#2457a6}
h1{font-size:20px;margin:2px 0 8px;overflow-wrap:anywhere}
h2{font-size:16px;margin:18px 0 8px}
main{padding:14px 24px 32px}
dl.summary{display:flex;flex-wrap:wrap;gap:4px 22px;margin:0 0 6px;font-size:13px}
dl.summary div{display:flex;gap:6px}
dt{color:#666}
dd{margin:0;font-weight:600}
.legend{display:flex;flex-wrap:wrap;gap:6px 14px;font-size:12px;color:#444;margin:6px 0 0}
.note{font-size:13px;color:#444;max-width:60em}
section.page{background:#fff;border:1px solid var(--line);border-radius:6px;margin:0 0 18px}
section.page>h2{font-size:13px;font-weight:600;margin:0;padding:7px 12px;
border-bottom:1px solid var(--line);background:#fafaf8}
.cols{display:grid;grid-template-columns:minmax(0,5fr) minmax(0,6fr)}
.cols.text-only{grid-template-columns:minmax(0,1fr)}
figure{margin:0;padding:10px;border-right:1px solid var(--line)}
figure img{display:block;width:100%;height:auto;border:1px solid #ccc;
position:sticky;top:8px;background:#fff}
figure figcaption{font-size:12px;color:#a33}
.text{padding:8px 10px 8px 0;font:13px/1.6 "DejaVu Sans Mono",Menlo,Consolas,monospace;
overflow-wrap:anywhere}
.line{display:grid;grid-template-columns:3.4em minmax(0,1fr)}
.line:target{background:#e8f0ff}
.no{color:#aaa;text-align:right;padding-right:.9em;text-decoration:none;user-select:none}
.tx{white-space:pre-wrap;min-height:1.6em}
mark.fix{color:inherit;border-radius:3px;padding:0 1px;cursor:help}
mark.fix:hover{box-shadow:0 0 0 2px #333}
mark.high{background:var(--hi)}
mark.medium{background:var(--mid)}
mark.low{background:var(--lo)}
mark.proposal{background:#fff;outline:2px dashed var(--prop);outline-offset:-1px}
mark.proposal::after{content:" \\2192 " attr(data-suggest) "?";color:var(--prop);
font-weight:600}
mark.gone::before{content:"\\232B";font-size:.75em;color:#555}
mark.elsewhere::before{content:"\\270E";font-size:.8em}
table{border-collapse:collapse;background:#fff;font-size:13px;margin:0 0 12px}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:#efefec;font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tr.failed td{background:#fdecec}
td.low-ocr{background:var(--lo)}
tfoot td{font-weight:600;background:#fafaf8}
details{margin:0 0 12px}
summary{cursor:pointer;font-weight:600;margin:8px 0}
code{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:.92em}
"""

# No script at all, images only from the report's own folder: a second wall behind escaping.
CSP = "default-src 'none'; img-src 'self' file:; style-src 'unsafe-inline'"

LOW_OCR = 85.0
"""Mean OCR confidence below which the index flags a document."""


def _esc(text: object) -> str:
    """Text for HTML content or a quoted attribute; stray control characters shown as �."""
    return html.escape(_CONTROL.sub("\ufffd", str(text)), quote=True)


def _stage_rank(stage: str) -> int:
    return STAGES.index(stage) if stage in STAGES else len(STAGES)


def _stages(changes: Iterable[Change]) -> list[str]:
    return sorted({c.stage for c in changes}, key=lambda s: (_stage_rank(s), s))


def band(confidence: float) -> str:
    """The colour band of an applied correction: ``high``, ``medium`` or ``low``."""
    if confidence >= HIGH:
        return "high"
    return "medium" if confidence >= MEDIUM else "low"


def describe(change: Change) -> str:
    """The hover text of one change: ``original → replacement (stage, confidence)``.

    >>> describe(Change("words", 3, 1, "pa", "på", 0.97))
    'pa → på (words, 0.97)'
    >>> describe(Change("words", 3, 1, "stod", "stöd", 0.42, False, (("stod", 0.4),)))
    'stod → stöd? (words, 0.42, not applied; other readings: stod 0.40)'
    """
    if not change.replacement:
        head = f"{change.original} removed"
    elif not change.original:
        head = f"{change.replacement} inserted"
    else:
        head = f"{change.original} → {change.replacement}{'' if change.applied else '?'}"
    detail = f"{change.stage}, {change.confidence:.2f}"
    if not change.applied:
        detail += ", not applied"
        others = [(t, p) for t, p in change.alternatives if t != change.replacement][:4]
        if others:
            detail += "; other readings: " + ", ".join(f"{t} {p:.2f}" for t, p in others)
    return f"{head} ({detail})"


# --------------------------------------------------------------------------- placing


@dataclass(slots=True)
class Mark:
    """A span of a cleaned line (empty for a removal) and the changes shown on it."""

    start: int
    end: int
    changes: list[Change] = field(default_factory=list)


def _estimate(change: Change, line_changes: Sequence[Change]) -> int:
    """Where ``change`` most likely sits in the cleaned line.

    Its column counts in the text its stage read; the applied changes of the same and
    later stages to its left moved it by their change in length.
    """
    rank = _stage_rank(change.stage)
    shift = sum(
        len(other.replacement) - len(other.original)
        for other in line_changes
        if other is not change
        and other.applied
        and _stage_rank(other.stage) >= rank
        and other.column < change.column
    )
    return change.column - 1 + shift


def _bounded(line: str, start: int, end: int) -> bool:
    before = line[start - 1] if start > 0 else " "
    after = line[end] if end < len(line) else " "
    return not before.isalnum() and not after.isalnum()


def _find(line: str, target: str, estimate: int, marks: Sequence[Mark]) -> int | None:
    """The occurrence of ``target`` best matching the estimate: a whole word, not yet
    marked, nearest to ``estimate``."""
    best: tuple[tuple[bool, bool, int], int] | None = None
    start = line.find(target)
    while start >= 0:
        end = start + len(target)
        taken = any(m.start < end and start < m.end for m in marks)
        key = (not _bounded(line, start, end), taken, abs(start - estimate))
        if best is None or key < best[0]:
            best = (key, start)
        start = line.find(target, start + 1)
    return best[1] if best is not None else None


def _add(marks: list[Mark], start: int, end: int, change: Change) -> None:
    """Add a span, merged with the spans it overlaps (a removal with the span around it)."""
    if start == end:
        for mark in marks:
            if mark.start < start < mark.end or mark.start == mark.end == start:
                mark.changes.append(change)
                return
        marks.append(Mark(start, end, [change]))
        return
    touching = [
        m
        for m in marks
        if (m.start < end and start < m.end) or (m.start == m.end and start < m.start < end)
    ]
    merged = Mark(
        min([start, *(m.start for m in touching)]),
        max([end, *(m.end for m in touching)]),
        [c for m in touching for c in m.changes] + [change],
    )
    gone = {id(m) for m in touching}
    marks[:] = [m for m in marks if id(m) not in gone] + [merged]


def place(line: str, changes: Sequence[Change]) -> tuple[list[Mark], list[Change]]:
    """Locate the changes of one line in its cleaned text.

    An applied change is found by its replacement, a proposal by its original, the
    occurrence nearest to where its column says; a removal sits where the removed text
    was. Returns the marks in line order, and the changes that could not be found
    (a later stage rewrote them): those are shown at the end of the line.

    >>> marks, lost = place("Vi ses på mötet.", [Change("words", 1, 8, "pa", "på", 1.0),
    ...                                            Change("words", 1, 11, "motet", "mötet", 1.0)])
    >>> [(m.start, m.end) for m in marks], lost
    ([(7, 9), (10, 15)], [])
    """
    marks: list[Mark] = []
    lost: list[Change] = []
    for change in sorted(changes, key=lambda c: (_stage_rank(c.stage), c.column)):
        estimate = _estimate(change, changes)
        target = change.replacement if change.applied else change.original
        if not target:
            if change.applied:
                _add(
                    marks,
                    min(max(estimate, 0), len(line)),
                    min(max(estimate, 0), len(line)),
                    change,
                )
            else:
                lost.append(change)
            continue
        start = _find(line, target, estimate, marks)
        if start is None:
            lost.append(change)
        else:
            _add(marks, start, start + len(target), change)
    return sorted(marks, key=lambda m: (m.start, m.end)), lost


def _mark_html(mark: Mark, text: str, extra: str = "") -> str:
    applied = [c for c in mark.changes if c.applied]
    classes = ["fix"]
    attrs = ""
    if applied:
        classes.append(band(min(c.confidence for c in applied)))
    else:
        classes.append("proposal")
        attrs = f' data-suggest="{_esc(mark.changes[0].replacement)}"'
    if mark.start == mark.end and not extra:
        classes.append("gone")
    if extra:
        classes.append(extra)
    title = "\n".join(describe(c) for c in mark.changes)
    return f'<mark class="{" ".join(classes)}" title="{_esc(title)}"{attrs}>{_esc(text)}</mark>'


def render_line(line: str, changes: Sequence[Change]) -> str:
    """One cleaned line as HTML, its changes marked."""
    marks, lost = place(line, changes)
    parts: list[str] = []
    pos = 0
    for mark in marks:
        parts.append(_esc(line[pos : mark.start]))
        parts.append(_mark_html(mark, line[mark.start : mark.end]))
        pos = mark.end
    parts.append(_esc(line[pos:]))
    for change in lost:
        parts.append(" " + _mark_html(Mark(len(line), len(line), [change]), "", "elsewhere"))
    return "".join(parts)


# --------------------------------------------------------------------------- images


@dataclass(frozen=True, slots=True)
class _ImageJob:
    source: Path
    kind: SourceKind
    page: int
    target: Path


def image_path(out: Path, sha256: str, page: int) -> Path:
    """Where the review keeps page ``page`` of the source whose content hash is ``sha256``."""
    return out / "review" / "img" / f"{sha256[:20]}-p{page:04d}.jpg"


def _render(job: _ImageJob) -> str | None:
    """Write one page image; return why it could not be made, or ``None``."""
    try:
        write_atomic(job.target, page_preview(job.source, job.kind, job.page))
    except MinutesError as error:
        return error.reason
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        return f"cannot make the page image: {error}"
    return None


def _render_all(jobs: Sequence[_ImageJob], workers: int | None) -> dict[Path, str | None]:
    """Make the page images not made by an earlier run (or the OCR); ``None`` for success."""
    # Sources with the same content share their images: render each once.
    todo = list({job.target: job for job in jobs if not job.target.exists()}.values())
    result: dict[Path, str | None] = {job.target: None for job in jobs}
    if todo:
        # pdftoppm and Pillow's codecs run outside the GIL: threads are enough.
        threads = min(8, workers or os.cpu_count() or 1)
        with ThreadPoolExecutor(max_workers=threads) as pool:
            for job, error in zip(todo, pool.map(_render, todo), strict=True):
                result[job.target] = error
    return result


# --------------------------------------------------------------------------- pages


def page_name(source: str) -> str:
    """File name of a document's review page: readable, safe, and unique per source.

    >>> page_name("2019/möte 3.pdf")
    '2019_mote_3.pdf-47aafedd.html'
    """
    slug = _SLUG.sub("_", fold(source)).strip("._")[:80] or "document"
    digest = hashlib.sha256(source.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return f"{slug}-{digest}.html"


def _html(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="sv">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{_esc(title)}</title>\n<style>\n{CSS}</style>\n</head>\n"
        f"<body>\n{body}</body>\n</html>\n"
    )


def _summary(items: Iterable[tuple[str, object]]) -> str:
    cells = "".join(f"<div><dt>{_esc(k)}</dt><dd>{_esc(v)}</dd></div>" for k, v in items)
    return f'<dl class="summary">{cells}</dl>\n'


def _confidence(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


_LEGEND = (
    '<p class="legend"><span>Corrections:</span>'
    f'<mark class="fix high key" title="confidence at least {HIGH:.2f}">applied, sure</mark>'
    f'<mark class="fix medium key" title="confidence {MEDIUM:.2f}–{HIGH:.2f}">applied, '
    "fairly sure</mark>"
    f'<mark class="fix low key" title="confidence below {MEDIUM:.2f}">applied, unsure</mark>'
    '<mark class="fix proposal key" data-suggest="suggestion" title="below the threshold: '
    'not applied">proposed</mark>'
    '<span><mark class="fix high gone key" title="removed"></mark> removed</span>'
    '<span><mark class="fix high elsewhere key" title="changed again by a later stage">'
    "</mark> not located on the line</span>"
    "<span>Hover a mark for the original, stage and confidence.</span></p>\n"
)


def _by_line(changes: Iterable[Change]) -> dict[tuple[int, int], list[Change]]:
    grouped: dict[tuple[int, int], list[Change]] = {}
    for change in changes:
        grouped.setdefault((change.page, change.line), []).append(change)
    return grouped


def _line_ref(change: Change) -> str:
    return f'<a href="#p{change.page}-l{change.line}">{change.page}:{change.line}</a>'


def _changes_table(changes: Sequence[Change]) -> str:
    rows = "".join(
        "<tr>"
        f"<td>{_line_ref(c)}</td><td>{_esc(c.stage)}</td><td>{_esc(c.original)}</td>"
        f'<td>{_esc(c.replacement)}</td><td class="n">{c.confidence:.2f}</td>'
        f"<td>{'yes' if c.applied else 'no'}</td>"
        f"<td>{_esc(', '.join(f'{t} {p:.2f}' for t, p in c.alternatives[:5]))}</td>"
        "</tr>\n"
        for c in changes
    )
    return (
        "<table><thead><tr><th>page:line</th><th>stage</th><th>original</th>"
        '<th>replacement</th><th class="n">confidence</th><th>applied</th>'
        f"<th>other readings</th></tr></thead>\n<tbody>\n{rows}</tbody></table>\n"
    )


def _document_page(outcome: Outcome, images: Mapping[int, tuple[str | None, str | None]]) -> str:
    """The review page of one processed document; ``images`` maps a page number to its
    image path relative to the page, or to why there is none."""
    document = outcome.document
    assert document is not None
    text = outcome.text if outcome.text is not None else document.text
    changes = outcome.changes
    applied = Counter(c.stage for c in changes if c.applied)
    proposed = [c for c in changes if not c.applied]
    items: list[tuple[str, object]] = [
        ("kind", document.kind.value),
        ("pages", len(document.pages)),
        ("OCR pages", document.ocr_pages),
        ("mean OCR confidence", _confidence(document.mean_ocr_confidence)),
    ]
    if document.encoding:
        items.append(("encoding", document.encoding))
    items += [(f"{stage}", applied[stage]) for stage in _stages(c for c in changes if c.applied)]
    items.append(("proposals", len(proposed)))
    parts = [
        '<header><a href="../index.html">← all documents</a>\n',
        f"<h1>{_esc(outcome.source)}</h1>\n",
        _summary(items),
        "".join(f'<p class="note">{_esc(note)}</p>\n' for note in document.notes),
        _LEGEND,
        "</header>\n<main>\n",
    ]
    if proposed:
        parts.append(
            f'<p class="note"><a href="#proposals">{len(proposed)} proposal'
            f"{'s' if len(proposed) != 1 else ''} awaiting a decision</a> "
            "(outlined in the text).</p>\n"
        )
    grouped = _by_line(changes)
    cleaned_pages = text.split("\f")
    for index, cleaned in enumerate(cleaned_pages):
        number = index + 1
        page = document.pages[index] if index < len(document.pages) else None
        heading = f"Page {number}"
        if page is not None:
            heading += f" · {page.kind.value}"
            if page.kind is PageKind.OCR:
                heading += f" · OCR confidence {_confidence(page.confidence)}"
        src, why = images.get(number, (None, None))
        figure = ""
        if src is not None:
            alt = f"Page {number} of {outcome.source}"
            figure = f'<figure><img src="{_esc(src)}" alt="{_esc(alt)}" loading="lazy"></figure>\n'
        elif why is not None:
            figure = f"<figure><figcaption>No page image: {_esc(why)}</figcaption></figure>\n"
        lines = "".join(
            f'<div class="line" id="p{number}-l{n}">'
            f'<a class="no" href="#p{number}-l{n}">{n}</a>'
            f'<span class="tx">{render_line(line, grouped.get((number, n), ()))}</span></div>\n'
            for n, line in enumerate(cleaned.split("\n"), start=1)
        )
        layout = "cols" if figure else "cols text-only"
        parts.append(
            f'<section class="page" id="p{number}"><h2>{_esc(heading)}</h2>\n'
            f'<div class="{layout}">\n{figure}<div class="text">\n{lines}</div>\n</div>\n'
            "</section>\n"
        )
    if proposed:
        parts.append(
            '<h2 id="proposals">Proposals awaiting a decision</h2>\n'
            '<p class="note">Not applied: below the confidence threshold. Decide them in '
            '<a href="../decisions.csv">decisions.csv</a>.</p>\n'
        )
        parts.append(_changes_table(proposed))
    if changes:
        parts.append(
            f"<details><summary>All {len(changes)} corrections</summary>\n"
            f"{_changes_table(changes)}</details>\n"
        )
    parts.append("</main>\n")
    return _html(f"Review: {outcome.source}", "".join(parts))


def _index_page(outcomes: Sequence[Outcome], names: Mapping[str, str]) -> str:
    stages = _stages(c for o in outcomes for c in o.changes if c.applied)
    documents = [o.document for o in outcomes if o.ok and o.document is not None]
    words = [w.confidence for d in documents for p in d.pages for w in p.words]
    totals: Counter[str] = Counter(c.stage for o in outcomes for c in o.changes if c.applied)
    proposals = sum(1 for o in outcomes for c in o.changes if not c.applied)
    failed = sum(1 for o in outcomes if not o.ok)
    pages = sum(len(d.pages) for d in documents)
    mean_ocr = _confidence(sum(words) / len(words) if words else None)
    items: list[tuple[str, object]] = [
        ("documents", len(outcomes)),
        ("failed", failed),
        ("pages", pages),
        ("OCR pages", sum(d.ocr_pages for d in documents)),
        ("mean OCR confidence", mean_ocr),
        *((stage, totals[stage]) for stage in stages),
        ("proposals", proposals),
    ]
    head = "".join(f'<th class="n">{_esc(stage)}</th>' for stage in stages)
    rows: list[str] = []
    for outcome in outcomes:
        document = outcome.document
        counts = Counter(c.stage for c in outcome.changes if c.applied)
        if outcome.ok and document is not None and outcome.source in names:
            link = f'<a href="doc/{quote(names[outcome.source])}">{_esc(outcome.source)}</a>'
        else:
            link = _esc(outcome.source)
        confidence = document.mean_ocr_confidence if document is not None else None
        low = " low-ocr" if confidence is not None and confidence < LOW_OCR else ""
        status = "ok" if outcome.ok else f"failed: {outcome.error}"
        rows.append(
            f'<tr class="{"ok" if outcome.ok else "failed"}"><td>{link}</td>'
            f"<td>{_esc(document.kind.value if document else '—')}</td>"
            f'<td class="n">{len(document.pages) if document else "—"}</td>'
            f'<td class="n{low}">{_confidence(confidence)}</td>'
            + "".join(f'<td class="n">{counts[stage]}</td>' for stage in stages)
            + f'<td class="n">{sum(1 for c in outcome.changes if not c.applied)}</td>'
            f"<td>{_esc(status)}</td></tr>\n"
        )
    foot = (
        f'<tr><td>all {len(outcomes)}</td><td></td><td class="n">{pages}</td>'
        f'<td class="n">{mean_ocr}</td>'
        + "".join(f'<td class="n">{totals[stage]}</td>' for stage in stages)
        + f'<td class="n">{proposals}</td><td>{failed} failed</td></tr>\n'
    )
    body = (
        "<header>\n<h1>Review of the batch</h1>\n" + _summary(items) + "</header>\n<main>\n"
        '<p class="note">Each document shows its pages beside the cleaned text, every '
        "correction highlighted (hover for the original and the confidence). To teach the "
        'lexicon, fill the <code>decision</code> column of <a href="decisions.csv" download>'
        "decisions.csv</a> with <code>accept</code> or <code>reject</code>, then run "
        "<code>minutes lexicon decisions decisions.csv</code>: rejected originals are "
        "protected, accepted readings become words. The next <code>minutes run</code> "
        "applies them.</p>\n"
        "<table><thead><tr><th>document</th><th>kind</th>"
        '<th class="n">pages</th><th class="n">OCR conf.</th>'
        f'{head}<th class="n">proposals</th><th>status</th></tr></thead>\n'
        f"<tbody>\n{''.join(rows)}</tbody>\n<tfoot>\n{foot}</tfoot></table>\n</main>\n"
    )
    return _html("Review of the batch", body)


# --------------------------------------------------------------------------- decisions


def _cell(text: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula (undone by ``teach.unformula``)."""
    return f"'{text}" if text.startswith(FORMULA_START) else text


def _earlier_decisions(path: Path) -> dict[tuple[str, str], str]:
    """Decisions already filled in a decisions file, so a new run does not wipe them."""
    if not path.exists():
        return {}
    try:
        return {(o, r): d for _, o, r, d in read_decisions(path) if d}
    except MinutesError:
        return {}  # not ours to judge here: `minutes lexicon decisions` will say what is wrong


def decision_rows(
    outcomes: Sequence[Outcome], earlier: Mapping[tuple[str, str], str] | None = None
) -> list[dict[str, object]]:
    """One row per distinct word correction of the batch, proposals first, least sure first.

    ``earlier`` holds decisions made in a previous decisions file, carried over.
    """
    earlier = earlier or {}
    seen: dict[tuple[str, str], list[tuple[str, Change]]] = {}
    for outcome in outcomes:
        for change in outcome.changes:
            if change.stage == "words" and change.original != change.replacement:
                seen.setdefault((change.original, change.replacement), []).append(
                    (outcome.source, change)
                )
    rows: list[tuple[tuple[bool, float, str, str], dict[str, object]]] = []
    for (original, replacement), found in seen.items():
        applied = {c.applied for _, c in found}
        status = "mixed" if len(applied) > 1 else ("applied" if True in applied else "proposed")
        lowest = min(c.confidence for _, c in found)
        source, first = min(found, key=lambda sc: (sc[0], sc[1].page, sc[1].line, sc[1].column))
        row: dict[str, object] = {
            "original": _cell(original),
            "replacement": _cell(replacement),
            "decision": earlier.get((original, replacement), ""),
            "status": status,
            "occurrences": len(found),
            "lowest_confidence": f"{lowest:.3f}",
            "sources": _cell("; ".join(sorted({s for s, _ in found}))),
            "example": _cell(f"{source} page {first.page} line {first.line}"),
        }
        rows.append(((status == "applied", lowest, original, replacement), row))
    return [row for _, row in sorted(rows, key=lambda r: r[0])]


# --------------------------------------------------------------------------- writing


def _write_if_changed(path: Path, text: str) -> None:
    try:
        if path.read_bytes() == text.encode("utf-8"):
            return
    except FileNotFoundError:
        pass
    write_atomic(path, text)


def _prune(folder: Path, pattern: str, keep: set[Path]) -> None:
    for path in folder.glob(pattern):
        if path not in keep:
            path.unlink(missing_ok=True)


def write_review(
    out: Path,
    outcomes: Sequence[Outcome],
    sources: Mapping[str, Path],
    *,
    jobs: int | None = None,
) -> None:
    """Write the review report of a batch under ``out/review`` (see the module's doc).

    ``outcomes`` are every document of the batch; ``sources`` maps an outcome's
    ``source`` to the file it was read from, for the page images (a source missing from
    it gets no image). Page images already at :func:`image_path` are kept; the others
    are made ``jobs`` at a time (default: one per core).
    """
    root = out / "review"
    (root / "doc").mkdir(parents=True, exist_ok=True)
    (root / "img").mkdir(parents=True, exist_ok=True)
    ordered = sorted(outcomes, key=lambda o: o.source)
    names = {o.source: page_name(o.source) for o in ordered if o.ok and o.document is not None}

    wanted: list[_ImageJob] = []
    for outcome in ordered:
        document, path = outcome.document, sources.get(outcome.source)
        if outcome.source not in names or document is None or path is None:
            continue
        if document.kind in (SourceKind.PDF, SourceKind.IMAGE):
            wanted += [
                _ImageJob(
                    path,
                    document.kind,
                    page.number,
                    image_path(out, document.sha256, page.number),
                )
                for page in document.pages
            ]
    made = _render_all(wanted, jobs)

    for outcome in ordered:
        if outcome.source not in names or outcome.document is None:
            continue
        images: dict[int, tuple[str | None, str | None]] = {}
        for page in outcome.document.pages:
            target = image_path(out, outcome.document.sha256, page.number)
            if target in made:
                error = made[target]
                images[page.number] = (
                    (f"../img/{target.name}", None) if error is None else (None, error)
                )
        _write_if_changed(root / "doc" / names[outcome.source], _document_page(outcome, images))

    _write_if_changed(root / "index.html", _index_page(ordered, names))
    decisions = root / "decisions.csv"
    rows = decision_rows(ordered, _earlier_decisions(decisions))
    _write_if_changed(decisions, csv_text(DECISION_FIELDS, rows))
    _prune(root / "doc", "*.html", {root / "doc" / name for name in names.values()})
    _prune(root / "img", "*.jpg", {target for target, error in made.items() if error is None})
