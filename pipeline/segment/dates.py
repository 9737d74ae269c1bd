"""Swedish dates: finding them in text, and inferring the year a title leaves out.

Month and weekday names are a small closed table, matched on diacritic-folded
text so OCR output that lost its ``å ä ö`` is read the same way.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from pipeline.segment.model import DateCandidate, DateRef
from pipeline.segment.text import fold

MONTH_NAMES = (
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
)
ABBREVIATIONS: Mapping[str, int] = {
    "jan": 1,
    "feb": 2,
    "apr": 4,
    "aug": 8,
    "sept": 9,
    "sep": 9,
    "okt": 10,
    "nov": 11,
    "dec": 12,
}
"""Abbreviations that cannot be mistaken for words (no ``mar``, ``jun``, ``jul``)."""
MONTHS: Mapping[str, int] = {
    **{name: n for n, name in enumerate(MONTH_NAMES, start=1)},
    **ABBREVIATIONS,
}

WEEKDAYS: Mapping[str, int] = {
    "mandag": 0,
    "tisdag": 1,
    "onsdag": 2,
    "torsdag": 3,
    "fredag": 4,
    "lordag": 5,
    "sondag": 6,
}
"""Folded weekday names, Monday = 0 as in :meth:`datetime.date.weekday`."""

DEFAULT_YEARS = range(2010, 2031)
"""Years a meeting without a year in its title may fall in."""

_FULL_MONTHS = "|".join(MONTH_NAMES)
_ABBREVIATIONS = "|".join(ABBREVIATIONS)
_WEEKDAY_RE = "|".join(WEEKDAYS)
_DATE = re.compile(
    rf"""
    (?<![\w\-–/:.])
    (?:(?P<weekday>{_WEEKDAY_RE})(?:en|ar|s)?\s+(?:den\s+)?)?
    (?:den\s+)?
    (?P<day>[0-3]?\d)(?:\s*(?:-|–|—|och|&)\s*(?P<day2>[0-3]?\d))?\.?(?:\s+|-)
    (?:(?P<month>{_FULL_MONTHS})(?!\w)|(?P<abbr>{_ABBREVIATIONS})(?!\w)\.?)
    (?:\s+(?P<year>(?:19|20)\d\d)(?!\d))?
    """,
    re.VERBOSE,
)
_ISO = re.compile(r"(?<![\d-])(?P<year>(?:19|20)\d\d)-(?P<month>[01]\d)-(?P<day>[0-3]\d)(?![\d-])")
_USUAL_WEEKDAY = re.compile(rf"\b(?P<weekday>{_WEEKDAY_RE})ar\b")
_MEETING_WORDS = re.compile(r"\b(?:traffas|mote|moten|motet|motestid|motestider|samma tid)\b")
_YEAR = re.compile(r"(?<![\d:.,/-])(?:19|20)\d\d(?![\d:.,/-]\d)")


@dataclass(frozen=True, slots=True)
class DateMatch:
    """One date expression found in a piece of text."""

    start: int
    end: int
    text: str
    day: int
    month: int
    year: int | None
    weekday: int | None
    last_day: int | None = None
    """Last day of a range such as ``1-2 juni``."""

    def ref(self) -> DateRef:
        return DateRef(self.day, self.month, self.year, self.weekday, self.text)


def find_dates(text: str) -> list[DateMatch]:
    """Every date expression in ``text`` (day and month, optionally weekday and year).

    >>> [(d.text, d.day, d.month, d.year, d.weekday) for d in find_dates(
    ...     "CurioCity 1-2 juni, fredagen den 2 juni och 16 december 2019")]
    [('1-2 juni', 1, 6, None, None), ('fredagen den 2 juni', 2, 6, None, 4), \
('16 december 2019', 16, 12, 2019, None)]
    """
    folded = fold(text)
    found: list[DateMatch] = []
    for m in _DATE.finditer(folded):
        day, month = int(m["day"]), MONTHS[m["month"] or m["abbr"]]
        last = int(m["day2"]) if m["day2"] else None
        year = int(m["year"]) if m["year"] else None
        if not _valid(day, month, year) or (last is not None and not day < last <= 31):
            continue
        start = m.start("weekday") if m["weekday"] else m.start("day")
        weekday = WEEKDAYS[m["weekday"]] if m["weekday"] else None
        found.append(
            DateMatch(start, m.end(), text[start : m.end()], day, month, year, weekday, last)
        )
    for m in _ISO.finditer(folded):
        day, month, year = int(m["day"]), int(m["month"]), int(m["year"])
        if _valid(day, month, year):
            found.append(DateMatch(m.start(), m.end(), m.group(0), day, month, year, None))
    return sorted(found, key=lambda d: d.start)


def _valid(day: int, month: int, year: int | None) -> bool:
    try:
        dt.date(year or 2000, month, day)  # 2000 is a leap year: 29 februari passes
    except ValueError:
        return False
    return True


def starts_with_date(line: str) -> bool:
    """Whether ``line`` opens with a date, as the lines of a list of meeting dates do."""
    found = find_dates(line[:40])
    return bool(found) and not line[: found[0].start].strip(" -•*")


def years_in(text: str) -> list[int]:
    """Four-digit years 1990–2039 written in ``text`` (not parts of times or amounts)."""
    return [int(y) for y in _YEAR.findall(text) if 1990 <= int(y) <= 2039]


def usual_weekday(text: str) -> int | None:
    """The weekday a group says it usually meets on (``vi träffas som vanligt måndagar``).

    Only plural weekdays in a sentence about meeting count: ``tisdagar och
    torsdagar 17:00–21:00`` about a café's opening hours does not.

    >>> usual_weekday("Vi träffas som vanligt måndagar 13:30 i samlingssalen.")
    0
    """
    votes: dict[int, int] = {}
    for sentence in re.split(r"(?<=[.!?])\s+", fold(text)):
        if not _MEETING_WORDS.search(sentence):
            continue
        for m in _USUAL_WEEKDAY.finditer(sentence):
            day = WEEKDAYS[m["weekday"]]
            votes[day] = votes.get(day, 0) + 1
    if not votes:
        return None
    return min(votes, key=lambda d: (-votes[d], d))


def resolve(ref: DateRef, anchor: dt.date, *, forward: bool = False) -> dt.date | None:
    """The date ``ref`` names, read relative to ``anchor`` (usually the meeting's date).

    A written year wins. Otherwise the year that puts the date nearest the
    anchor (within half a year), or with ``forward`` the first such date on or
    after the anchor, as for coming meetings.

    >>> resolve(DateRef(15, 1, None, None, "15 januari"), dt.date(2017, 12, 4))
    datetime.date(2018, 1, 15)
    """
    if ref.year is not None:
        return _date(ref.year, ref.month, ref.day)
    options = [
        d
        for y in (anchor.year - 1, anchor.year, anchor.year + 1)
        if (d := _date(y, ref.month, ref.day)) is not None
    ]
    if forward:
        ahead = [d for d in options if 0 <= (d - anchor).days <= 366]
        return min(ahead) if ahead else None
    near = [d for d in options if abs((d - anchor).days) <= 183]
    return min(near, key=lambda d: abs((d - anchor).days)) if near else None


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def rank_years(
    day: int,
    month: int,
    *,
    mentions: Iterable[DateRef] = (),
    title_weekday: int | None = None,
    usual: int | None = None,
    years_mentioned: Sequence[int] = (),
    support: Mapping[int, tuple[float, str]] | None = None,
    years: Iterable[int] = DEFAULT_YEARS,
) -> tuple[DateCandidate, ...]:
    """Rank the years a meeting on ``day``/``month`` may have been held in.

    Each weekday the text ties to a date (``onsdagen 31 maj``) adds a point to
    every year in which that date falls on that weekday; a weekday in the title
    itself counts double; the group's usual meeting weekday adds half a point;
    ``support`` adds evidence gathered elsewhere (other documents of a batch).
    Years with no evidence are dropped. Ties go to the year nearest the years
    the text itself mentions, then to the earliest: an archive's undated
    minutes are more often old than new.

    >>> [c.date.year for c in rank_years(
    ...     29, 5, mentions=[DateRef(31, 5, None, 2, "onsdagen 31 maj")])]
    [2017, 2023, 2028]
    """
    mentions = [m for m in mentions if m.weekday is not None and m.year is None]
    centre = statistics.median(years_mentioned) if years_mentioned else None
    ranked: list[tuple[float, float, int, DateCandidate]] = []
    for year in years:
        meeting = _date(year, month, day)
        if meeting is None:
            continue
        score = 0.0
        evidence: list[str] = []
        if title_weekday is not None and meeting.weekday() == title_weekday:
            score += 2.0
            evidence.append("title weekday")
        for ref in mentions:
            when = resolve(ref, meeting)
            if when is not None and when.weekday() == ref.weekday:
                score += 1.0
                evidence.append(f"'{ref.text}' is a {_weekday_name(when)}")
        if usual is not None and meeting.weekday() == usual:
            score += 0.5
            evidence.append(f"the group meets on {_weekday_name(meeting)}s")
        if support and year in support:
            points, why = support[year]
            score += points
            evidence.append(why)
        if score > 0:
            distance = abs(year - centre) if centre is not None else 0.0
            candidate = DateCandidate(meeting, round(score, 2), tuple(evidence))
            ranked.append((-score, distance, year, candidate))
    ranked.sort(key=lambda r: r[:3])
    return tuple(r[3] for r in ranked)


def decisive(candidates: Sequence[DateCandidate]) -> bool:
    """Whether the best candidate beats the runner-up on evidence, not on a tie-break."""
    return len(candidates) == 1 or (
        len(candidates) > 1 and candidates[0].score > candidates[1].score
    )


_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _weekday_name(day: dt.date) -> str:
    return _WEEKDAY_NAMES[day.weekday()]


def upcoming_date(ref: DateRef, anchor: dt.date) -> dt.date | None:
    """The date ``ref`` names if it lies after ``anchor`` (a coming meeting), else ``None``.

    >>> upcoming_date(DateRef(20, 1, None, None, "20 januari"), dt.date(2019, 12, 16))
    datetime.date(2020, 1, 20)
    >>> upcoming_date(DateRef(6, 11, None, None, "6 november"), dt.date(2017, 12, 4)) is None
    True
    """
    when = resolve(ref, anchor) or resolve(ref, anchor, forward=True)
    return when if when is not None and when > anchor else None
