"""Segmentation: the cleaned text of one document into meetings, attendees and agenda items.

``segment(text)`` finds each meeting's header (group name and Swedish date),
its attendee sections and its agenda items; ``segmented_to_json`` gives the
structure ``minutes segment --json`` prints. Year inference across a batch of
documents lives in :mod:`pipeline.tables`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.segment import attendees as attendee_rules
from pipeline.segment.dates import (
    DEFAULT_YEARS,
    find_dates,
    rank_years,
    resolve,
    upcoming_date,
    usual_weekday,
    years_in,
)
from pipeline.segment.items import events, find_headings, make_item
from pipeline.segment.lines import Kind, Line, classify, is_markdown
from pipeline.segment.model import (
    Action,
    ActionKind,
    AgendaItem,
    Attendee,
    DateCandidate,
    DateRef,
    DateSource,
    Meeting,
    Mention,
    MentionKind,
    Role,
    Segmented,
)
from pipeline.segment.text import collapse, fold, prepare, strip_markdown

__all__ = [
    "Meeting",
    "Segmented",
    "coming_meetings",
    "due_date",
    "meeting_json",
    "segment",
    "segmented_to_json",
    "segmented_to_text",
]

_GROUP_WORD = re.compile(
    r"grupp|rad\b|radet|namnd|styrelse|samverkan|forum|natverk|mote|traff|kommitte|utskott"
    r"|ledning|referens|brukar"
)
_PREFIX = re.compile(
    r"^(?:minnesanteckningar|motesanteckningar|anteckningar|protokoll)"
    r"(?:\s+(?:fran|for|vid))?\s*[:,\-–]?\s*"
)
_TRAILING = re.compile(r"(?:[\s,:;\-–—]|\bden\b)+$")
MAX_TITLE_WORDS = 14
MAX_PREAMBLE_LINES = 3


@dataclass(frozen=True, slots=True)
class Title:
    """A meeting title: the group's name and the date it gives."""

    text: str
    group: str | None
    date_text: str
    when: DateRef


def parse_title(line: str) -> Title | None:
    """Read a line as a meeting title (``Gemensam utvecklingsgrupp 16 december 2019``).

    >>> t = parse_title("## Gemensam utvecklingsgrupp 29 maj")
    >>> t.group, t.date_text, t.when.year
    ('Gemensam utvecklingsgrupp', '29 maj', None)
    """
    text = collapse(strip_markdown(line).strip().lstrip("#").strip().strip("*_"))
    if not text or len(text.split()) > MAX_TITLE_WORDS or text[-1] in ".?!:":
        return None
    found = find_dates(text)
    if not found:
        return None
    first = found[0]
    if len(text[first.end :].split()) > 6:
        return None
    folded = fold(text[: first.start])
    prefix = _PREFIX.match(folded)
    start = prefix.end() if prefix else 0
    trailing = _TRAILING.search(folded, start)
    end = trailing.start() if trailing else len(folded)
    group = text[start:end].strip() or None
    return Title(text, group, first.text, first.ref())


def segment(
    text: str,
    *,
    source: str = "",
    markdown: bool | None = None,
    years: Sequence[int] = DEFAULT_YEARS,
) -> Segmented:
    """Split the cleaned text of one document into its meetings.

    ``text`` may hold several pages separated by form feeds and several
    meetings; a document with no header (a continuation page) still yields its
    items, under a meeting with ``has_header`` false. Markdown is read when the
    text has ``#`` headings; ``markdown=False`` reads them as plain text, and a
    Markdown file without any is read as plain text too, so its headings are
    found the plain way. ``years`` bounds the years a title without one may be
    given.
    """
    prepared = prepare(text)
    md = is_markdown(prepared) and markdown is not False
    lines = classify(prepared, markdown=md)
    headers = _find_headers(lines)
    spans: list[tuple[Title | None, int, int]] = []
    if not headers:
        spans.append((None, 0, len(lines)))
    else:
        first = headers[0][0]
        if _has_content(lines[:first]):
            spans.append((None, 0, first))
        bounds = [*(i for i, _ in headers), len(lines)]
        for (index, title), end in zip(headers, bounds[1:], strict=True):
            spans.append((title, index, end))
    meetings = tuple(
        _meeting(lines, start, end, title, markdown=md, years=years) for title, start, end in spans
    )
    return Segmented(source=source, meetings=meetings, markdown=md)


def _has_content(lines: Sequence[Line]) -> bool:
    filled = [line for line in lines if line.kind is not Kind.BLANK]
    return len(filled) > MAX_PREAMBLE_LINES or any(len(line.text) > 60 for line in filled)


def _find_headers(lines: Sequence[Line]) -> list[tuple[int, Title]]:
    """Meeting headers: a title line starting the document, or later ones that open a meeting.

    The document's first title is accepted when it gives a year, names a
    group (``…grupp``, ``…rådet``) or is followed by an attendee section; a
    later one (a second meeting in the same file) needs an attendee section
    after it or a group name seen before.
    """
    headers: list[tuple[int, Title]] = []
    groups: set[str] = set()
    seen = 0
    for i, line in enumerate(lines):
        if line.kind is Kind.BLANK:
            continue
        set_apart = i == 0 or lines[i - 1].kind is Kind.BLANK
        title = (
            parse_title(line.text) if set_apart and line.kind in (Kind.TEXT, Kind.HEADING) else None
        )
        if title is not None:
            follows = _section_follows(lines, i)
            group = fold(title.group or "")
            if not headers and seen <= MAX_PREAMBLE_LINES:
                accept = bool(title.when.year or _GROUP_WORD.search(group) or follows)
            else:
                accept = follows or (bool(group) and group in groups)
            if accept:
                headers.append((i, title))
                groups.add(group)
                continue
        seen += 1
    return headers


def _section_follows(lines: Sequence[Line], i: int, within: int = 3) -> bool:
    count = 0
    for line in lines[i + 1 :]:
        if line.kind is Kind.BLANK:
            continue
        if attendee_rules.section(line.text) is not None:
            return True
        count += 1
        if count >= within:
            return False
    return False


def _meeting(
    lines: Sequence[Line],
    start: int,
    end: int,
    title: Title | None,
    *,
    markdown: bool,
    years: Sequence[int],
) -> Meeting:
    body = list(lines[start:end])
    if title is not None:
        body[0] = _blank(body[0])
    people, body = _take_attendees(body)
    names = [p.name for p in people]
    headings = find_headings(body, markdown=markdown)
    items: list[AgendaItem] = []
    first = headings[0].index if headings else len(body)
    if any(line.kind is not Kind.BLANK for line in body[:first]):
        items.append(
            make_item(None, 1, body[:first], markdown=markdown, line=body[0].number, people=names)
        )
    for k, heading in enumerate(headings):
        stop = headings[k + 1].index if k + 1 < len(headings) else len(body)
        items.append(
            make_item(
                heading.text,
                heading.level,
                body[heading.index + 1 : stop],
                markdown=markdown,
                line=body[heading.index].number,
                people=names,
            )
        )
    texts = [t for item in items for t in (item.heading or "", *(b.text for b in item.blocks))]
    full = "\n".join(texts)
    weekday_refs = tuple(d.ref() for d in find_dates(full) if d.weekday is not None)
    usual = usual_weekday(full)
    mentioned = tuple(years_in(full))
    found_events = tuple(e for item in items for e in events(item.heading, item.blocks))
    date: dt.date | None = None
    source = DateSource.UNKNOWN
    candidates: tuple[DateCandidate, ...] = ()
    when = title.when if title else None
    if when is not None and when.year is not None:
        date = dt.date(when.year, when.month, when.day)
        source = DateSource.TITLE
    elif when is not None:
        candidates = rank_years(
            when.day,
            when.month,
            mentions=weekday_refs,
            title_weekday=when.weekday,
            usual=usual,
            years_mentioned=mentioned,
            years=years,
        )
        if candidates:
            date, source = candidates[0].date, DateSource.WEEKDAY
    return Meeting(
        title=title.text if title else None,
        group=title.group if title else None,
        date=date,
        date_text=title.date_text if title else None,
        date_source=source,
        attendees=tuple(people),
        items=tuple(items),
        date_candidates=candidates,
        title_date=when,
        weekday_mentions=weekday_refs,
        events=found_events,
        usual_weekday=usual,
        years_mentioned=mentioned,
        has_header=title is not None,
        line=lines[start].number if start < len(lines) else 1,
    )


def _blank(line: Line) -> Line:
    return Line(line.number, "", "", Kind.BLANK)


def _take_attendees(body: list[Line]) -> tuple[list[Attendee], list[Line]]:
    """Attendees of every section, and the body with their lines blanked out.

    Besides ``Närvarande``/``Deltagare``/``Frånvarande`` sections, a list of
    two or more attendee lines right under the title counts, heading or not.
    """
    people: list[Attendee] = []
    body = list(body)

    def take(indices: list[int], role: Role) -> None:
        people.extend(
            attendee_rules.parse_block([(body[j].number, body[j].raw) for j in indices], role)
        )
        for j in indices:
            body[j] = _blank(body[j])

    first = next((i for i, line in enumerate(body) if line.kind is not Kind.BLANK), None)
    if first is not None and _section_of(body[first]) is None:
        block = _block(body, first)
        if len(block) >= 2 and all(attendee_rules.looks_like_attendee(body[j].raw) for j in block):
            take(block, Role.ATTENDEE)
    for i, line in enumerate(body):
        opened = _section_of(line)
        if opened is None:
            continue
        body[i] = _blank(line)
        if opened.inline:
            people.extend(attendee_rules.parse_inline(opened.inline, line.number, opened.role))
        take(_section_lines(body, i + 1, after_blank=not opened.inline), opened.role)
    return _merge(people), body


def _section_of(line: Line) -> attendee_rules.Section | None:
    if line.kind not in (Kind.TEXT, Kind.HEADING):
        return None
    return attendee_rules.section(line.text)


def _block(body: Sequence[Line], i: int) -> list[int]:
    block: list[int] = []
    while i < len(body) and body[i].kind in (Kind.TEXT, Kind.BULLET):
        block.append(i)
        i += 1
    return block


def _section_lines(body: Sequence[Line], i: int, *, after_blank: bool = True) -> list[int]:
    """Indices of the attendee lines after a section heading.

    The list runs to the first line that does not read as a person; a blank
    line ends it unless what follows is clearly more of the list (two or more
    attendee lines, or one with an affiliation or role). The list may start
    after a blank line, unless the heading line already named people
    (``Närvarande: …``).
    """
    taken: list[int] = []
    while i < len(body):
        line = body[i]
        if line.kind is Kind.BLANK:
            j = i
            while j < len(body) and body[j].kind is Kind.BLANK:
                j += 1
            if not taken and not after_blank:
                break
            if not taken:
                i = j
                continue
            block = _block(body, j)
            if not block or not all(attendee_rules.looks_like_attendee(body[k].raw) for k in block):
                break
            if len(block) < 2 and not _more_of_list(body, block[0]):
                break
            i = j
            continue
        if line.kind not in (Kind.TEXT, Kind.BULLET) or attendee_rules.section(line.text):
            break
        if not attendee_rules.looks_like_attendee(line.raw):
            break
        taken.append(i)
        i += 1
    return taken


def _more_of_list(body: Sequence[Line], k: int) -> bool:
    """Whether a lone line after a blank one continues an attendee list (OCR spaces lists out).

    It does when it has an affiliation or role, or when it is a bare name of
    two to four words that prose does not follow: a heading naming something
    (``Vorta Drom``) is followed by its body text.
    """
    line = body[k].raw
    if re.search(r"[,(]", line):
        return True
    if not 2 <= len(line.split()) <= 4:
        return False
    j = k + 1
    while j < len(body) and body[j].kind is Kind.BLANK:
        j += 1
    if j >= len(body):
        return True
    nxt = body[j]
    return nxt.kind is not Kind.TEXT or (len(nxt.text) < 60 and not nxt.text.endswith("."))


def _merge(people: list[Attendee]) -> list[Attendee]:
    """One record per person: a name listed twice (present, then as chair) is kept once."""
    out: dict[str, Attendee] = {}
    for person in people:
        key = fold(person.name)
        if key not in out:
            out[key] = person
    return list(out.values())


def coming_meetings(meeting: Meeting) -> list[tuple[int, Mention, dt.date | None]]:
    """Dates of coming meetings the minutes give: (item index, mention, date).

    Dates are read relative to the meeting's date and kept only when they lie
    after it; without a meeting date, only dates that give their year resolve.
    """
    out: list[tuple[int, Mention, dt.date | None]] = []
    for k, item in enumerate(meeting.items):
        for mention in item.mentions:
            if mention.kind is not MentionKind.MEETING_DATE or mention.when is None:
                continue
            when = _resolve_forward(mention.when, meeting.date)
            if meeting.date is not None and when is None:
                continue
            out.append((k, mention, when))
    return out


def _resolve_forward(ref: DateRef, anchor: dt.date | None) -> dt.date | None:
    if anchor is None:
        return dt.date(ref.year, ref.month, ref.day) if ref.year else None
    return upcoming_date(ref, anchor)


def due_date(action: Action, anchor: dt.date | None) -> dt.date | None:
    """The date an action is due, read against the meeting's date."""
    if action.due is None:
        return None
    if anchor is None:
        return (
            dt.date(action.due.year, action.due.month, action.due.day) if action.due.year else None
        )
    return resolve(action.due, anchor) or resolve(action.due, anchor, forward=True)


def meeting_json(meeting: Meeting) -> dict[str, object]:
    """One meeting in the shape ``minutes segment --json`` prints."""
    coming: dict[int, list[str | None]] = {}
    for k, mention, when in coming_meetings(meeting):
        coming.setdefault(k, []).append(when.isoformat() if when else mention.value)
    return {
        "title": meeting.title,
        "group": meeting.group,
        "date": meeting.date.isoformat() if meeting.date else None,
        "date_text": meeting.date_text,
        "date_source": meeting.date_source.value,
        "date_candidates": [
            {"date": c.date.isoformat(), "score": c.score, "evidence": list(c.evidence)}
            for c in meeting.date_candidates
        ],
        "has_header": meeting.has_header,
        "attendees": [
            {
                "name": a.name,
                "organisations": list(a.organisations),
                "titles": list(a.titles),
                "role": a.role.value,
            }
            for a in meeting.attendees
        ],
        "items": [
            {
                "heading": item.heading,
                "level": item.level,
                "text": item.text,
                "decisions": [a.text for a in item.actions if a.kind is ActionKind.DECISION],
                "actions": [
                    {
                        "text": a.text,
                        "owners": list(a.owners),
                        "due": _iso(due_date(a, meeting.date)),
                    }
                    for a in item.actions
                    if a.kind is ActionKind.ACTION or a.owners
                ],
                "links": [m.value for m in item.mentions if m.kind is MentionKind.URL],
                "emails": [m.value for m in item.mentions if m.kind is MentionKind.EMAIL],
                "next_meetings": coming.get(k, []),
            }
            for k, item in enumerate(meeting.items)
        ],
    }


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def segmented_to_json(seg: Segmented) -> dict[str, object]:
    """The structure of one document: ``{"source", "meetings": [...]}``."""
    return {"source": seg.source, "meetings": [meeting_json(m) for m in seg.meetings]}


def segmented_to_text(seg: Segmented) -> str:
    """The structure of one document as an indented outline, for people to read."""
    out: list[str] = []
    for meeting in seg.meetings:
        coming: dict[int, list[str]] = {}
        for k, mention, when in coming_meetings(meeting):
            coming.setdefault(k, []).append(when.isoformat() if when else mention.value)
        out.append(meeting.title or "(no meeting header: a continuation page)")
        others = ", ".join(c.date.isoformat() for c in meeting.date_candidates[1:])
        date = f"{_iso(meeting.date) or 'unknown'} ({meeting.date_source.value})"
        out.append(f"  date: {date}" + (f"; other candidates {others}" if others else ""))
        if meeting.group:
            out.append(f"  group: {meeting.group}")
        out.append(f"  attendees ({len(meeting.attendees)}):")
        for person in meeting.attendees:
            details = ", ".join([*person.titles, *person.organisations])
            role = "" if person.role is Role.ATTENDEE else f" [{person.role.value}]"
            out.append(f"    {person.name}" + (f" — {details}" if details else "") + role)
        out.append(f"  items ({len(meeting.items)}):")
        for k, item in enumerate(meeting.items):
            out.append(
                "    " + "  " * (item.level - 1) + f"{item.heading or '(before any heading)'}"
            )
            pad = "      " + "  " * (item.level - 1)
            for action in item.actions:
                owners = f" ({', '.join(action.owners)})" if action.owners else ""
                out.append(f"{pad}{action.kind.value}{owners}: {action.text}")
            for mention in item.mentions:
                if mention.kind is not MentionKind.MEETING_DATE:
                    out.append(f"{pad}{mention.kind.value}: {mention.value}")
            if coming.get(k):
                out.append(f"{pad}next meetings: {', '.join(coming[k])}")
        out.append("")
    return "\n".join(out)
