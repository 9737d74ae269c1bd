"""Attendee sections (``Närvarande``, ``Deltagare``, ``Frånvarande``) and attendee lines.

A line reads ``Name, [title] Organisation, [title] Organisation (role)``:
the first comma-separated part is the name, each later part an affiliation
whose leading title words (``projektledare Röda korset``) are told from the
organisation by the title table in :mod:`pipeline.segment.matchers`; a slash
joins organisations (``Ria/G7``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from spacy.tokens import Doc, Span

from pipeline.segment import matchers
from pipeline.segment.model import Affiliation, Attendee, Role
from pipeline.segment.text import collapse, fold, strip_markdown

_SECTION = re.compile(
    r"^(?:ovriga\s+)?(?P<word>narvarande|deltagare|franvarande|anmalt\s+forhinder|forhinder"
    r"|ej\s+narvarande)(?:\s+(?:ledamoter|deltagare|fran\s+[\w ]+))?\s*(?::\s*(?P<rest>.*))?$"
)
_SECTION_ROLE = {
    "narvarande": Role.ATTENDEE,
    "deltagare": Role.ATTENDEE,
    "franvarande": Role.ABSENT,
    "forhinder": Role.ABSENT,
    "anmalt forhinder": Role.ABSENT,
    "ej narvarande": Role.ABSENT,
}
_BULLET = re.compile(r"^\s*(?:[-•◦*·▪]|\d+[.)])\s+")
_LEADING_PREPOSITION = re.compile(r"^(?:i|på|vid|från|för|hos|inom)\s+", re.IGNORECASE)
_ROLE_RANK = {Role.ATTENDEE: 0, Role.ABSENT: 1, Role.CHAIR: 2, Role.NOTE_TAKER: 3}


@dataclass(frozen=True, slots=True)
class Section:
    """An attendee section heading: the role it implies and any names on the same line."""

    role: Role
    inline: str


def section(line: str) -> Section | None:
    """Whether ``line`` opens an attendee section (``Närvarande``, ``Frånvarande:`` …).

    >>> section("Närvarande: Anna Ek, FMN; Bo Al")
    Section(role=<Role.ATTENDEE: 'attendee'>, inline='Anna Ek, FMN; Bo Al')
    >>> section("Frånvarande") is not None, section("Närvarande gäster och så vidare") is None
    (True, True)
    """
    plain = strip_markdown(line).strip().lstrip("#").strip().strip("*_").strip()
    m = _SECTION.match(fold(plain))
    if m is None:
        return None
    word = " ".join(m["word"].split())
    inline = plain[m.start("rest") :].strip() if m["rest"] else ""
    return Section(_SECTION_ROLE[word], inline)


def looks_like_attendee(line: str) -> bool:
    """Whether ``line`` reads as one attendee (a name, then affiliations or a role)."""
    text = _clean(line)
    if not text or len(text) > 120 or text[-1] in ".?!:" or len(text.split()) > 14:
        return False
    doc = matchers.parse(text)
    name = matchers.leading_name(doc)
    if name is None or len(name) > 5:
        return False
    return name.end == len(doc) or doc[name.end].text in {",", "(", "/", "-", "–"}


def parse_line(line: str, number: int, role: Role = Role.ATTENDEE) -> Attendee | None:
    """One attendee from a line, or ``None`` when the line names nobody.

    >>> a = parse_line("Jan Ek, projektledare Röda korset, ordförande Kvarnhuset (antecknar)", 1)
    >>> a.name, a.organisations, a.titles, a.role.value
    ('Jan Ek', ('Röda korset', 'Kvarnhuset'), ('projektledare', 'ordförande'), 'note-taker')
    >>> parse_line("Rolf Sandqvist, Lyktan/Bro7", 1).organisations
    ('Lyktan', 'Bro7')
    """
    text = _clean(line)
    if not text:
        return None
    doc = matchers.parse(text)
    name = matchers.leading_name(doc)
    if name is None:
        return None
    roles = [Role(ent.ent_id_) for ent in doc.ents if ent.label_ == "ROLE"]
    if role is Role.ABSENT or Role.ABSENT in roles:
        role = Role.ABSENT
    elif roles:
        role = max(roles, key=_ROLE_RANK.__getitem__)
    affiliations: list[Affiliation] = []
    for part in _parts(doc, name.end):
        affiliations.extend(_affiliations(part))
    return Attendee(collapse(name.text), tuple(affiliations), role, number)


def parse_inline(text: str, number: int, role: Role = Role.ATTENDEE) -> list[Attendee]:
    """Attendees listed on one line (``Närvarande: Anna Ek, FMN; Bo Al (antecknar)``).

    Semicolons separate people when there are any; otherwise a comma part
    that reads as a person's name (two or three capitalised words) starts a
    new person and other parts are the previous person's affiliations.
    """
    text = strip_markdown(text).strip().rstrip(".")
    if ";" in text:
        people = [p for p in text.split(";") if p.strip()]
    else:
        people = []
        for part in text.split(","):
            if not people or _reads_as_person(part):
                people.append(part)
            else:
                people[-1] += "," + part
    found = (parse_line(p, number, role) for p in people)
    return [a for a in found if a is not None]


def parse_block(lines: Sequence[tuple[int, str]], role: Role) -> list[Attendee]:
    """Attendees from the lines of a section, one person a line (or several inline)."""
    out: list[Attendee] = []
    for number, line in lines:
        text = _clean(line)
        if text.count(",") >= 3 and sum(_reads_as_person(p) for p in text.split(",")) >= 3:
            out.extend(parse_inline(text, number, role))
            continue
        attendee = parse_line(line, number, role)
        if attendee is not None:
            out.append(attendee)
    return out


def _reads_as_person(part: str) -> bool:
    words = re.sub(r"\([^)]*\)", "", part).split()
    return 2 <= len(words) <= 3 and all(matchers.NAME_TOKEN.match(w) for w in words)


def _clean(line: str) -> str:
    text = strip_markdown(line)
    text = _BULLET.sub("", text)
    return collapse(text).strip(" ,;")


def _parts(doc: Doc, start: int) -> list[Span]:
    """The comma-separated parts after the name, brackets holding a role left out."""
    role_tokens = {i for ent in doc.ents if ent.label_ == "ROLE" for i in range(ent.start, ent.end)}
    parts: list[Span] = []
    begin = start
    for i in range(start, len(doc) + 1):
        if i == len(doc) or doc[i].text in {",", ";"} or i in role_tokens:
            if i > begin:
                parts.append(doc[begin:i])
            begin = i + 1
    return parts


def _affiliations(part: Span) -> list[Affiliation]:
    """Titles and organisations of one comma part: ``projektledare Röda korset``."""
    titles: list[str] = []
    i = part.start
    doc = part.doc
    title_ents = {ent.start: ent for ent in doc.ents if ent.label_ == "TITLE"}
    while i < part.end and i in title_ents and title_ents[i].end <= part.end:
        titles.append(title_ents[i].text.lower())
        i = title_ents[i].end
    rest = doc[i : part.end].text if i < part.end else ""
    rest = rest.strip(" -–()[]")
    rest = _LEADING_PREPOSITION.sub("", rest)
    organisations = [collapse(o) for o in re.split(r"\s*/\s*", rest) if o.strip(" -–")]
    if not organisations:
        return [Affiliation(None, t) for t in titles]
    # titles go with the first organisation: ``brukarutvecklare Ria/G7``
    heads = [Affiliation(organisations[0], t) for t in titles] or [Affiliation(organisations[0])]
    return [*heads, *(Affiliation(o) for o in organisations[1:])]
