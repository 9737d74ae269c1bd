"""Agenda items: headings (Markdown or plain), their nesting, and the body under each.

In plain text a heading is a short line set apart from what precedes it, with
no closing full stop, colon or comma, that is followed by body text (after a
blank line or directly, as OCR often loses the blank). Numbered lines are
headings only when body text follows them, not another number of a list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pipeline.segment import matchers
from pipeline.segment.dates import MONTHS, WEEKDAYS, find_dates, starts_with_date
from pipeline.segment.lines import Kind, Line
from pipeline.segment.model import (
    Action,
    ActionKind,
    AgendaItem,
    Block,
    BlockKind,
    DateRef,
    EventMention,
    Mention,
    MentionKind,
)
from pipeline.segment.text import (
    collapse,
    emails,
    fold,
    has_link,
    join_lines,
    strip_markdown,
    urls,
    words,
)

MAX_HEADING_CHARS = 80
MAX_HEADING_WORDS = 10
MAX_QUESTION_WORDS = 6
"""A question is a heading (``Vilka deltar?``) only when short; longer ones are discussion."""
MAX_HEADING_BEFORE_TEXT = 60
"""Without a blank line after it, a heading must be short enough not to be a wrapped line."""

_FUNCTION_WORDS = words(
    fold(
        "och att i på för med som en ett av till om den det de är eller men från samt vid hos "
        "under efter inför mot utan än så"
    )
)
"""A heading does not end on a word that needs a continuation."""
_CLOSING = re.compile(
    r"^(?:ovrigt|ovriga fragor|nasta mote|nasta motesdatum|kommande moten|avslutning"
    r"|motets avslutande|mote(?:t)? avslutas|nasta traff)\b"
)
"""Headings that close the minutes and are never nested under a group heading."""
_MEETING_WORD = re.compile(
    r"\b(?:mote|moten|motet|motena|motestid(?:en|er|erna)?|motesdatum(?:en)?|traffas|ses"
    r"|traff|traffar|sammankomst)\b"
)
_DUE = re.compile(r"\b(?:senast|till och med|innan|fore|tills)\s+(?:den\s+)?$")
_DUE_NEXT_MEETING = re.compile(r"\b(?:till|innan|fore|senast)\s+nasta\s+mote\b")
_EVENT_WORD = re.compile(r"[a-z0-9][a-z0-9-]{3,}")
_EVENT_STOP = words(
    "den det som att och for med till fran under efter inte ska kan har var vara blir blev "
    "detta dessa deras vara vart varje alla mote moten motet grupp gruppen tema kommer "
    "klockan pass dagen dagar vecka veckan manad"
)


@dataclass(frozen=True, slots=True)
class Heading:
    """An agenda heading found among the lines of a meeting."""

    index: int
    """Index of the heading line in the line list."""
    text: str
    level: int


def find_headings(lines: Sequence[Line], *, markdown: bool) -> list[Heading]:
    """Every agenda heading among ``lines``, with its nesting level."""
    if markdown:
        return _markdown_headings(lines)
    flags = _plain_heading_flags(lines)
    return _nest_plain([i for i, f in enumerate(flags) if f], lines)


def _markdown_headings(lines: Sequence[Line]) -> list[Heading]:
    found: list[Heading] = []
    stack: list[int] = []
    for i, line in enumerate(lines):
        if line.kind is not Kind.HEADING:
            continue
        # levels are relative: the author's ``##`` and ``###`` become 1 and 2 wherever they start
        while stack and stack[-1] >= line.depth:
            stack.pop()
        stack.append(line.depth)
        found.append(Heading(i, _heading_text(line.text), len(stack)))
    return found


def _heading_text(text: str) -> str:
    return collapse(strip_markdown(text)).strip("*_ ")


def _plain_heading_flags(lines: Sequence[Line]) -> list[bool]:
    """Which lines are plain-text headings; decided from the end so a heading may precede one."""
    flags = [False] * len(lines)
    for i in range(len(lines) - 1, -1, -1):
        flags[i] = _is_plain_heading(lines, i, flags)
    return flags


def _is_plain_heading(lines: Sequence[Line], i: int, flags: list[bool]) -> bool:
    line = lines[i]
    if line.kind not in (Kind.TEXT, Kind.NUMBERED):
        return False
    if i > 0 and lines[i - 1].kind is not Kind.BLANK:
        return False
    text = line.text if line.kind is Kind.TEXT else line.raw.strip()
    words = text.split()
    first = text[0]
    if not (first.isupper() or first.isdigit() or first in '§"”'):
        return False
    if len(text) > MAX_HEADING_CHARS or len(words) > MAX_HEADING_WORDS:
        return False
    if text[-1] in ".,;:-–" or has_link(text) or starts_with_date(text):
        return False
    if fold(words[-1]).strip('"”)') in _FUNCTION_WORDS:
        return False
    if line.kind is Kind.NUMBERED and _in_numbered_list(lines, i):
        return False
    question = text.endswith("?")
    if question and (len(words) > MAX_QUESTION_WORDS):
        return False
    following = _next_non_blank(lines, i)
    if following is None:
        return False
    nxt = lines[following]
    if following == i + 1:  # no blank line after it: only a short line directly before prose
        if question or len(text) > MAX_HEADING_BEFORE_TEXT:
            return False
        if nxt.kind is Kind.BULLET:
            return True
        return nxt.kind is Kind.TEXT and _opens_prose(lines, following, len(text))
    if nxt.kind in (Kind.BULLET, Kind.NUMBERED):
        return True
    if nxt.kind is not Kind.TEXT:
        return False
    return flags[following] or _is_prose(lines, following)


def _in_numbered_list(lines: Sequence[Line], i: int) -> bool:
    """A numbered line right after (blank lines aside) or before another: a list, not headings."""
    value = lines[i].value or ""
    prev = _prev_non_blank(lines, i)
    nxt = i + 1 if i + 1 < len(lines) else None
    if nxt is not None and lines[nxt].kind is Kind.NUMBERED:
        return True
    if prev is not None and lines[prev].kind is Kind.NUMBERED:
        try:
            return int(value.split(".")[-1]) == int((lines[prev].value or "0").split(".")[-1]) + 1
        except ValueError:
            return True
    return False


def _opens_prose(lines: Sequence[Line], j: int, heading_chars: int) -> bool:
    line = lines[j]
    first = line.text[:1]
    if not (first.isupper() or first.isdigit() or first in '"”'):
        return False
    return len(line.text) > heading_chars and _is_prose(lines, j)


def _is_prose(lines: Sequence[Line], j: int) -> bool:
    """Whether the paragraph starting at ``j`` reads as body text, not a list of short lines."""
    block: list[str] = []
    while j < len(lines) and lines[j].kind is Kind.TEXT:
        block.append(lines[j].text)
        j += 1
    joined = " ".join(block)
    if starts_with_date(block[0]) and len(block[0]) < 70:
        return False
    return bool(re.search(r"[.!?…]", joined)) or len(block[0]) >= 60


def _next_non_blank(lines: Sequence[Line], i: int) -> int | None:
    for j in range(i + 1, len(lines)):
        if lines[j].kind is not Kind.BLANK:
            return j
    return None


def _prev_non_blank(lines: Sequence[Line], i: int) -> int | None:
    for j in range(i - 1, -1, -1):
        if lines[j].kind is not Kind.BLANK:
            return j
    return None


def _nest_plain(indices: list[int], lines: Sequence[Line]) -> list[Heading]:
    """Levels for plain headings.

    A heading followed directly by another heading opens a group; the headings
    after it are its children (level 2) until the next group or a closing
    heading such as ``Övrigt``. Dotted numbers (``2.1``) give their own depth.
    """
    found: list[Heading] = []
    heading_set = set(indices)
    group_open = False
    for i in indices:
        line = lines[i]
        text = line.text if line.kind is Kind.TEXT else line.raw.strip()
        text = _heading_text(text)
        following = _next_non_blank(lines, i)
        parent = following in heading_set
        if line.kind is Kind.NUMBERED and line.depth > 1:
            level = line.depth
        elif parent:
            level, group_open = 1, True
        elif _CLOSING.match(fold(text)):
            level, group_open = 1, False
        else:
            level = 2 if group_open else 1
        found.append(Heading(i, text, level))
    return found


def build_blocks(lines: Sequence[Line], *, markdown: bool) -> list[Block]:
    """The body of an item as paragraphs and list items, reflowed."""
    indented_continuations = any(
        lines[k].kind is Kind.BULLET and lines[k + 1].kind is Kind.TEXT and lines[k + 1].indent > 0
        for k in range(len(lines) - 1)
    )
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.kind in (Kind.BLANK, Kind.HEADING):
            i += 1
            continue
        if line.kind is Kind.BULLET or (line.kind is Kind.NUMBERED and line.depth == 1):
            parts = [line.text]
            i += 1
            while i < len(lines) and lines[i].kind is Kind.TEXT:
                nxt = lines[i]
                # OCR loses a wrapped bullet's indent: then a line that does not start a
                # new sentence still belongs to the bullet
                unindented = (
                    not markdown
                    and not indented_continuations
                    and (parts[-1][-1:] not in ".!?:" or nxt.text[:1].islower())
                )
                if not (nxt.indent > line.indent or unindented):
                    break
                parts.append(nxt.text)
                i += 1
            kind = BlockKind.BULLET if line.kind is Kind.BULLET else BlockKind.NUMBERED
            number = _number(line.value) if line.kind is Kind.NUMBERED else None
            level = line.depth if line.kind is Kind.BULLET else 1 + line.indent // 2
            blocks.append(Block(kind, _inline(join_lines(parts)), level, number))
            continue
        # a dotted number (``1.5 miljoner …``) outside a heading is just text
        parts = [line.raw.strip() if line.kind is Kind.NUMBERED else line.text]
        i += 1
        while i < len(lines) and lines[i].kind is Kind.TEXT:
            nxt = lines[i]
            if lines[i - 1].hard_break and markdown:
                break
            if starts_with_date(nxt.text) and (
                starts_with_date(parts[-1]) or parts[-1].endswith(":")
            ):
                break
            parts.append(nxt.text)
            i += 1
        blocks.append(Block(BlockKind.PARAGRAPH, _inline(join_lines(parts))))
    return blocks


def _number(value: str | None) -> int | None:
    try:
        return int((value or "").split(".")[-1])
    except ValueError:
        return None


def _inline(text: str) -> str:
    return collapse(strip_markdown(text))


def make_item(
    heading: str | None,
    level: int,
    body: Sequence[Line],
    *,
    markdown: bool,
    line: int,
    people: Iterable[str] = (),
) -> AgendaItem:
    """An agenda item with its blocks, decisions, action points and mentions."""
    blocks = build_blocks(body, markdown=markdown)
    return AgendaItem(
        heading=heading,
        level=level,
        blocks=tuple(blocks),
        actions=tuple(find_actions(blocks, people)),
        mentions=tuple(find_mentions(heading, blocks)),
        line=line,
    )


def find_actions(blocks: Sequence[Block], people: Iterable[str] = ()) -> list[Action]:
    """Decisions and action points in the blocks' sentences.

    An owner must be a full name (two or more capitalised words) or the first
    name or full name of someone listed for the meeting: sentence-initial nouns
    (``Rapporten ska …``) are not people.
    """
    known = {fold(p) for name in people for p in (name, name.split()[0])}
    nlp = matchers.rules().nlp
    found: list[Action] = []
    for doc in nlp.pipe(b.text for b in blocks):
        decided = matchers.decision_sentences(doc)
        owned = {
            s.start: [o for o in owners if len(o.split()) >= 2 or fold(o) in known]
            for s, owners in matchers.action_owners(doc)
        }
        for sent in doc.sents:
            owners = owned.get(sent.start, [])
            if sent.start in decided:
                kind = ActionKind.DECISION
            elif owners:
                kind = ActionKind.ACTION
            else:
                continue
            text = collapse(sent.text)
            due, due_text = _due(text)
            found.append(Action(kind, text, tuple(owners), due, due_text))
    return found


def _due(sentence: str) -> tuple[DateRef | None, str | None]:
    folded = fold(sentence)
    for match in find_dates(sentence):
        if _DUE.search(folded[: match.start]):
            return match.ref(), match.text
    m = _DUE_NEXT_MEETING.search(folded)
    if m:
        return None, sentence[m.start() : m.end()]
    return None, None


def find_mentions(heading: str | None, blocks: Sequence[Block]) -> list[Mention]:
    """Links, e-mail addresses and dates of coming meetings given under one heading.

    A date is taken for a coming meeting when its paragraph or the heading
    speaks of meeting (``Nästa möte``, ``vi träffas``), or when it opens a line
    of a list introduced by such a sentence ending in a colon. Whether it lies
    after the meeting is decided once the meeting's date is known.
    """
    mentions: list[Mention] = []
    seen: set[tuple[MentionKind, str]] = set()

    def add(kind: MentionKind, value: str, context: str, when: DateRef | None = None) -> None:
        if (kind, value) not in seen:
            seen.add((kind, value))
            mentions.append(Mention(kind, value, when, context))

    heading_says = bool(heading and _MEETING_WORD.search(fold(heading)))
    list_says = False
    for block in blocks:
        for url in urls(block.text):
            add(MentionKind.URL, url, block.text)
        for address in emails(block.text):
            add(MentionKind.EMAIL, address, block.text)
        says = bool(_MEETING_WORD.search(fold(block.text)))
        opens_with_date = starts_with_date(block.text)
        if says or heading_says or (list_says and opens_with_date):
            for match in find_dates(block.text):
                add(MentionKind.MEETING_DATE, match.text, block.text, match.ref())
        if says and block.text.endswith(":"):
            list_says = True
        elif not opens_with_date:
            list_says = False
    return mentions


def events(heading: str | None, blocks: Sequence[Block]) -> list[EventMention]:
    """Dates in an item tied to the distinctive words around them, to match across documents."""
    found: list[EventMention] = []
    head_words = _event_words(heading or "")
    texts = [heading or ""] + [b.text for b in blocks]
    for text in texts:
        for sentence in re.split(r"(?<=[.!?])\s+", text):
            for match in find_dates(sentence):
                words = tuple(sorted(set(head_words) | set(_event_words(sentence))))
                found.append(EventMention(match.ref(), words))
    return found


def _event_words(text: str) -> list[str]:
    return [
        w
        for w in _EVENT_WORD.findall(fold(text))
        if w not in _EVENT_STOP and not w.isdigit() and not _is_date_word(w)
    ]


def _is_date_word(word: str) -> bool:
    return word in MONTHS or any(word.startswith(w) for w in WEEKDAYS)
