"""Records of a segmented document: meetings, attendees, agenda items and what they decide."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class DateSource(StrEnum):
    """Where a meeting's date came from."""

    TITLE = "title"
    """Written in full in the meeting's title."""
    WEEKDAY = "inferred-weekday"
    """The title gives day and month; the year is the one the text's weekdays fit."""
    BATCH = "inferred-batch"
    """The year was settled by other documents of the same batch."""
    METADATA = "file-metadata"
    """The year was taken from the file's own date (creation or modification)."""
    UNKNOWN = "unknown"


class Role(StrEnum):
    """What a person did at a meeting."""

    CHAIR = "chair"
    NOTE_TAKER = "note-taker"
    ABSENT = "absent"
    ATTENDEE = "attendee"


class BlockKind(StrEnum):
    PARAGRAPH = "paragraph"
    BULLET = "bullet"
    NUMBERED = "numbered"


class ActionKind(StrEnum):
    DECISION = "decision"
    ACTION = "action"
    """An action point: someone undertakes to do something."""


class MentionKind(StrEnum):
    URL = "url"
    EMAIL = "email"
    MEETING_DATE = "meeting-date"
    """The date of a coming meeting."""


@dataclass(frozen=True, slots=True)
class DateRef:
    """A date as the text writes it; the year may be missing until read against a meeting."""

    day: int
    month: int
    year: int | None
    weekday: int | None
    """Weekday the text ties to the date (Monday = 0), if any."""
    text: str


@dataclass(frozen=True, slots=True)
class DateCandidate:
    """One possible date of a meeting, with the evidence for it."""

    date: dt.date
    score: float
    evidence: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Affiliation:
    """One organisation a person represents, or one title they hold, or both."""

    organisation: str | None
    title: str | None = None


@dataclass(frozen=True, slots=True)
class Attendee:
    """One person listed for a meeting."""

    name: str
    affiliations: tuple[Affiliation, ...]
    role: Role
    line: int
    """1-based line of the prepared text the person is listed on."""

    @property
    def organisations(self) -> tuple[str, ...]:
        return _unique(a.organisation for a in self.affiliations if a.organisation)

    @property
    def titles(self) -> tuple[str, ...]:
        return _unique(a.title for a in self.affiliations if a.title)


@dataclass(frozen=True, slots=True)
class Block:
    """A paragraph (reflowed) or one list item of an agenda item's body."""

    kind: BlockKind
    text: str
    level: int = 1
    """Nesting depth of a list item (1 = top level)."""
    number: int | None = None


@dataclass(frozen=True, slots=True)
class Action:
    """A decision or an action point, with who owns it and when it is due."""

    kind: ActionKind
    text: str
    owners: tuple[str, ...] = ()
    due: DateRef | None = None
    due_text: str | None = None


@dataclass(frozen=True, slots=True)
class Mention:
    """A link, e-mail address or coming meeting date an agenda item gives."""

    kind: MentionKind
    value: str
    when: DateRef | None = None
    context: str = ""


@dataclass(frozen=True, slots=True)
class EventMention:
    """A date the text ties to an event, kept so other documents can date it."""

    when: DateRef
    words: tuple[str, ...]
    """Distinctive words (folded) of the line and heading the date stands in."""


@dataclass(frozen=True, slots=True)
class AgendaItem:
    """One heading of the minutes and the body under it."""

    heading: str | None
    """``None`` for body text that precedes every heading."""
    level: int
    blocks: tuple[Block, ...] = ()
    actions: tuple[Action, ...] = ()
    mentions: tuple[Mention, ...] = ()
    line: int = 0

    @property
    def text(self) -> str:
        """The body reflowed: paragraphs apart, list items one a line (``- item``)."""
        parts: list[str] = []
        in_list = False
        for block in self.blocks:
            if block.kind is BlockKind.PARAGRAPH:
                parts.append(block.text)
                in_list = False
                continue
            marker = f"{block.number}." if block.kind is BlockKind.NUMBERED else "-"
            line = "  " * (block.level - 1) + f"{marker} {block.text}"
            if in_list:
                parts[-1] += "\n" + line
            else:
                parts.append(line)
                in_list = True
        return "\n\n".join(parts)


@dataclass(frozen=True, slots=True)
class Meeting:
    """One meeting found in a document."""

    title: str | None
    group: str | None
    date: dt.date | None
    date_text: str | None
    date_source: DateSource
    attendees: tuple[Attendee, ...] = ()
    items: tuple[AgendaItem, ...] = ()
    date_candidates: tuple[DateCandidate, ...] = ()
    title_date: DateRef | None = None
    """Day and month (and year, weekday) as the title gives them."""
    weekday_mentions: tuple[DateRef, ...] = ()
    """Dates in the text tied to a weekday: the evidence for a missing year."""
    events: tuple[EventMention, ...] = ()
    usual_weekday: int | None = None
    years_mentioned: tuple[int, ...] = ()
    has_header: bool = True
    line: int = 1


@dataclass(frozen=True, slots=True)
class Segmented:
    """Every meeting of one document."""

    source: str
    meetings: tuple[Meeting, ...]
    markdown: bool = False


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))
