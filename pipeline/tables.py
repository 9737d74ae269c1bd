"""Tidy tables from the segmented documents of a batch, and their Frictionless descriptor.

``build_tables`` turns ``(source, Segmented)`` pairs into one list of row
dicts per table, in a deterministic order, with stable keys joining them:

- a meeting is ``<source>#<n>`` (n counts meetings in the file from 1),
- an agenda item ``<meeting>/i<n>``, an attendee ``<meeting>/a<n>``, an action ``<item>/x<n>``,
- a person ``p-`` + a hash of the name folded (case and diacritics dropped), so the
  same person has one id across documents and batches,
- an organisation ``o-`` + a hash of its canonical name; spellings that fuzzy
  matching or an acronym ties together (``Antidiskrimineringsbrån`` ≈
  ``Antidiskrimineringsbyrån``, ``IFS`` ≈ ``IFS Schizofreniföreningen``) are its aliases.

Years missing from titles are inferred again across the batch (``inferred-batch``):
dated documents that mention the same event, and the group's usual weekday.
``datapackage()`` describes every table; ``write_tables`` writes them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import importlib
import json
import os
import re
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from pipeline.export import write_atomic, write_csv
from pipeline.segment import coming_meetings, due_date
from pipeline.segment.dates import DEFAULT_YEARS, decisive, rank_years, resolve
from pipeline.segment.model import (
    DateCandidate,
    DateSource,
    Meeting,
    MentionKind,
    Role,
    Segmented,
)
from pipeline.segment.text import collapse, fold

Row = dict[str, object]
Tables = dict[str, list[Row]]

# --------------------------------------------------------------------------- schema


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str
    """Frictionless type: string, integer, number, boolean or date."""
    description: str
    required: bool = False
    enum: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class ForeignKey:
    fields: tuple[str, ...]
    resource: str
    reference: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _c(name: str, type_: str, description: str, **kw: Any) -> Column:
    return Column(name, type_, description, **kw)


def _fk(fields: str, resource: str, reference: str | None = None) -> ForeignKey:
    names = tuple(fields.split(","))
    return ForeignKey(names, resource, tuple((reference or fields).split(",")))


_ROLES = tuple(r.value for r in Role)
_DATE_SOURCES = tuple(s.value for s in DateSource)

DOCUMENTS = Table(
    "documents",
    "One row per source file of the run (written by the batch stage).",
    (
        _c("source", "string", "Path of the source relative to the raw folder.", required=True),
        _c("sha256", "string", "SHA-256 of the source file."),
        _c("kind", "string", "What the file is.", enum=("pdf", "image", "text", "markdown")),
        _c("pages", "integer", "Number of pages."),
        _c("ocr_pages", "integer", "Pages whose text came from OCR."),
        _c("mean_ocr_confidence", "number", "Mean Tesseract word confidence, 0–100."),
        _c("encoding", "string", "Encoding a text file was decoded from."),
        _c("status", "string", "Whether the file was read.", required=True, enum=("ok", "failed")),
        _c("error", "string", "Why the file could not be read."),
    ),
    primary_key=("source",),
)
CORRECTIONS = Table(
    "corrections",
    "Every correction the normaliser made or proposed (written by the normalise stage).",
    (
        _c("source", "string", "Source the correction belongs to.", required=True),
        _c("page", "integer", "1-based page."),
        _c("line", "integer", "1-based line of the extracted text."),
        _c("column", "integer", "1-based column of the original text."),
        _c("original", "string", "Text as extracted."),
        _c("replacement", "string", "Text as corrected."),
        _c("stage", "string", "Normalisation step that made the correction."),
        _c("confidence", "number", "How sure the step is, 0–1."),
        _c("applied", "boolean", "False when the change was only proposed."),
        _c("alternatives", "string", "Other readings weighed, with their scores."),
    ),
    foreign_keys=(_fk("source", "documents"),),
)
MEETINGS = Table(
    "meetings",
    "One row per meeting; a file may hold several, a continuation page one without a header.",
    (
        _c("meeting_id", "string", "Source and ordinal: '<source>#<n>'.", required=True),
        _c("source", "string", "Source file the meeting was found in.", required=True),
        _c("ordinal", "integer", "1-based position of the meeting in its file.", required=True),
        _c("title", "string", "Title line as written (empty when the page has no header)."),
        _c("group_name", "string", "Name of the group that met, from the title."),
        _c("date", "date", "Date of the meeting (ISO 8601)."),
        _c("year", "integer", "Year of the meeting."),
        _c("date_text", "string", "The date as the title writes it."),
        _c(
            "date_source",
            "string",
            "Where the date came from: the title, the weekdays the text mentions, other "
            "documents of the batch, the file's own date, or nowhere.",
            required=True,
            enum=_DATE_SOURCES,
        ),
        _c("date_inferred", "boolean", "True when the year was not written in the title."),
        _c("has_header", "boolean", "False for a continuation page with no meeting header."),
        _c("line", "integer", "Line of the text the meeting starts on."),
    ),
    primary_key=("meeting_id",),
    foreign_keys=(_fk("source", "documents"),),
)
PEOPLE = Table(
    "people",
    "One row per person listed at any meeting of the batch.",
    (
        _c("person_id", "string", "Stable id: 'p-' and a hash of the folded name.", required=True),
        _c("name", "string", "The most common spelling of the name.", required=True),
        _c("meetings", "integer", "Meetings the person is listed for (present or absent)."),
        _c("first_date", "date", "Earliest dated meeting the person is listed for."),
        _c("last_date", "date", "Latest dated meeting the person is listed for."),
    ),
    primary_key=("person_id",),
)
ATTENDEES = Table(
    "attendees",
    "One row per person listed for a meeting.",
    (
        _c("attendee_id", "string", "'<meeting_id>/a<n>'.", required=True),
        _c("meeting_id", "string", "Meeting the person is listed for.", required=True),
        _c("person_id", "string", "The person.", required=True),
        _c("position", "integer", "1-based position in the meeting's list.", required=True),
        _c("name", "string", "The name as written in this meeting.", required=True),
        _c("role", "string", "Role in the meeting.", required=True, enum=_ROLES),
        _c("line", "integer", "Line of the text the person is listed on."),
    ),
    primary_key=("attendee_id",),
    foreign_keys=(_fk("meeting_id", "meetings"), _fk("person_id", "people")),
)
ORGANISATIONS = Table(
    "organisations",
    "One row per organisation, its spellings merged (see organisation_aliases).",
    (
        _c("organisation_id", "string", "'o-' and a hash of the canonical name.", required=True),
        _c("name", "string", "Canonical name.", required=True),
        _c("aliases", "integer", "Number of spellings seen."),
        _c("affiliations", "integer", "Number of attendee affiliations naming it."),
    ),
    primary_key=("organisation_id",),
)
ORGANISATION_ALIASES = Table(
    "organisation_aliases",
    "Every spelling of an organisation seen in the batch.",
    (
        _c("alias", "string", "The spelling, as written.", required=True),
        _c("organisation_id", "string", "Organisation it names.", required=True),
        _c("occurrences", "integer", "Affiliations written this way."),
        _c("similarity", "number", "Similarity to the canonical name, 0–100."),
    ),
    primary_key=("alias",),
    foreign_keys=(_fk("organisation_id", "organisations"),),
)
AFFILIATIONS = Table(
    "affiliations",
    "One row per organisation or title an attendee is listed with.",
    (
        _c("attendee_id", "string", "The attendee.", required=True),
        _c("position", "integer", "1-based position on the attendee's line.", required=True),
        _c("organisation_id", "string", "Organisation (canonical), if any."),
        _c("organisation", "string", "Organisation as written."),
        _c("title", "string", "Title held (projektledare, ordförande …), if any."),
    ),
    primary_key=("attendee_id", "position"),
    foreign_keys=(
        _fk("attendee_id", "attendees"),
        _fk("organisation_id", "organisations"),
        _fk("organisation", "organisation_aliases", "alias"),
    ),
)
AGENDA_ITEMS = Table(
    "agenda_items",
    "One row per agenda heading, with its body text reflowed.",
    (
        _c("item_id", "string", "'<meeting_id>/i<n>'.", required=True),
        _c("meeting_id", "string", "Meeting.", required=True),
        _c("position", "integer", "1-based position in the meeting.", required=True),
        _c("heading", "string", "Heading as written (empty for text before any heading)."),
        _c("level", "integer", "Nesting level, 1 = top.", required=True),
        _c("parent_id", "string", "Item this one is nested under."),
        _c("text", "string", "Body: paragraphs apart, list items as '- ' lines."),
        _c("line", "integer", "Line of the text the heading is on."),
    ),
    primary_key=("item_id",),
    foreign_keys=(_fk("meeting_id", "meetings"), _fk("parent_id", "agenda_items", "item_id")),
)
ACTIONS = Table(
    "actions",
    "Decisions and action points, one row each (owners in action_owners).",
    (
        _c("action_id", "string", "'<item_id>/x<n>'.", required=True),
        _c("item_id", "string", "Agenda item.", required=True),
        _c("meeting_id", "string", "Meeting.", required=True),
        _c("position", "integer", "1-based position in the item.", required=True),
        _c(
            "kind",
            "string",
            "Decision or action point.",
            required=True,
            enum=("decision", "action"),
        ),
        _c("text", "string", "The sentence.", required=True),
        _c("owners", "integer", "Number of owners named."),
        _c("due_date", "date", "Date it is due, if the text gives one."),
        _c("due_text", "string", "The deadline as written ('senast 22 oktober')."),
    ),
    primary_key=("action_id",),
    foreign_keys=(_fk("item_id", "agenda_items"), _fk("meeting_id", "meetings")),
)
ACTION_OWNERS = Table(
    "action_owners",
    "Who owns each action point or decision, one row per owner.",
    (
        _c("action_id", "string", "Action.", required=True),
        _c("position", "integer", "1-based position among the owners.", required=True),
        _c("owner", "string", "Owner as written ('Martina', 'Leila Karimi').", required=True),
        _c("person_id", "string", "The owner among the meeting's attendees, if found."),
    ),
    primary_key=("action_id", "position"),
    foreign_keys=(_fk("action_id", "actions"), _fk("person_id", "people")),
)
MENTIONS = Table(
    "mentions",
    "Links, e-mail addresses and dates of coming meetings given under an agenda item.",
    (
        _c("item_id", "string", "Agenda item.", required=True),
        _c("position", "integer", "1-based position in the item.", required=True),
        _c("meeting_id", "string", "Meeting.", required=True),
        _c("kind", "string", "What is mentioned.", required=True, enum=tuple(MentionKind)),
        _c("value", "string", "URL, address, or the date as written.", required=True),
        _c("date", "date", "For a coming meeting: its date."),
    ),
    primary_key=("item_id", "position"),
    foreign_keys=(_fk("item_id", "agenda_items"), _fk("meeting_id", "meetings")),
)

TABLES: tuple[Table, ...] = (
    MEETINGS,
    PEOPLE,
    ATTENDEES,
    ORGANISATIONS,
    ORGANISATION_ALIASES,
    AFFILIATIONS,
    AGENDA_ITEMS,
    ACTIONS,
    ACTION_OWNERS,
    MENTIONS,
)
"""The tables ``build_tables`` produces, in the order they are written."""


def datapackage() -> dict[str, Any]:
    """The Frictionless (Table Schema) data package describing every CSV of a run."""
    return {
        "profile": "tabular-data-package",
        "name": "minutes",
        "title": "Meeting minutes: documents, meetings, attendees, agenda items and actions",
        "resources": [_resource(t) for t in (DOCUMENTS, CORRECTIONS, *TABLES)],
    }


def _resource(table: Table) -> dict[str, Any]:
    fields: list[dict[str, Any]] = []
    for column in table.columns:
        field: dict[str, Any] = {
            "name": column.name,
            "type": column.type,
            "description": column.description,
        }
        constraints: dict[str, Any] = {}
        if column.required:
            constraints["required"] = True
        if column.enum:
            constraints["enum"] = [str(v) for v in column.enum]
        if constraints:
            field["constraints"] = constraints
        if column.type == "date":
            field["format"] = "%Y-%m-%d"
        fields.append(field)
    schema: dict[str, Any] = {"fields": fields, "missingValues": [""]}
    if table.primary_key:
        schema["primaryKey"] = list(table.primary_key)
    if table.foreign_keys:
        schema["foreignKeys"] = [
            {
                "fields": list(fk.fields),
                "reference": {"resource": fk.resource, "fields": list(fk.reference)},
            }
            for fk in table.foreign_keys
        ]
    return {
        "name": table.name,
        "path": f"{table.name}.csv",
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "description": table.description,
        "schema": schema,
    }


# --------------------------------------------------------------------------- writing


def write_tables(out: Path, tables: Mapping[str, Sequence[Mapping[str, object]]]) -> None:
    """Write each table as ``OUT/<name>.csv`` and ``datapackage.json``, atomically.

    Parquet copies (``OUT/<name>.parquet``) are written too when ``pyarrow``
    is installed.
    """
    for table in TABLES:
        write_csv(out / f"{table.name}.csv", table.fields, tables.get(table.name, ()))
    write_atomic(
        out / "datapackage.json", json.dumps(datapackage(), ensure_ascii=False, indent=2) + "\n"
    )
    try:
        pyarrow = importlib.import_module("pyarrow")
        parquet = importlib.import_module("pyarrow.parquet")
    except ImportError:
        return
    for table in TABLES:
        _write_parquet(pyarrow, parquet, out / f"{table.name}.parquet", table, tables)


_ARROW_TYPES = {
    "string": "string",
    "integer": "int64",
    "number": "float64",
    "boolean": "bool_",
    "date": "date32",
}


def _write_parquet(
    pyarrow: Any, parquet: Any, path: Path, table: Table, tables: Mapping[str, Any]
) -> None:
    schema = pyarrow.schema(
        [pyarrow.field(c.name, getattr(pyarrow, _ARROW_TYPES[c.type])()) for c in table.columns]
    )
    rows = [{k: row.get(k) for k in table.fields} for row in tables.get(table.name, ())]
    data = pyarrow.Table.from_pylist(rows, schema=schema)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        parquet.write_table(data, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------- building


def build_tables(
    docs: Sequence[tuple[str, Segmented]],
    *,
    file_dates: Mapping[str, dt.date] | None = None,
    years: Sequence[int] = DEFAULT_YEARS,
) -> Tables:
    """Every table of a batch, as lists of row dicts keyed by table name.

    ``docs`` pairs each source (its path relative to the raw folder) with its
    segmented text. ``file_dates`` optionally gives each source's own date
    (e.g. a PDF's creation date), the last resort for a missing year.
    """
    ordered = sorted(docs, key=lambda d: d[0])
    dated = infer_batch_dates(ordered, file_dates=file_dates, years=years)
    meetings: list[tuple[str, str, int, Meeting]] = []
    for source, seg in ordered:
        for n, meeting in enumerate(seg.meetings, start=1):
            meeting_id = f"{source}#{n}"
            meetings.append((meeting_id, source, n, dated.get((source, n), meeting)))

    people = _people(meetings)
    orgs = canonical_organisations(
        a.organisation
        for *_, m in meetings
        for person in m.attendees
        for a in person.affiliations
        if a.organisation
    )
    tables: Tables = {t.name: [] for t in TABLES}
    for meeting_id, source, n, meeting in meetings:
        tables["meetings"].append(_meeting_row(meeting_id, source, n, meeting))
        owners_known = _attendee_index(meeting, people)
        for k, person in enumerate(meeting.attendees, start=1):
            attendee_id = f"{meeting_id}/a{k:02d}"
            tables["attendees"].append(
                {
                    "attendee_id": attendee_id,
                    "meeting_id": meeting_id,
                    "person_id": person_id(person.name),
                    "position": k,
                    "name": person.name,
                    "role": person.role.value,
                    "line": person.line,
                }
            )
            for p, aff in enumerate(person.affiliations, start=1):
                org = orgs.get(aff.organisation) if aff.organisation else None
                tables["affiliations"].append(
                    {
                        "attendee_id": attendee_id,
                        "position": p,
                        "organisation_id": org.organisation_id if org else None,
                        "organisation": aff.organisation,
                        "title": aff.title,
                    }
                )
        _item_rows(tables, meeting_id, meeting, owners_known)
    tables["people"] = [people[k].row() for k in sorted(people, key=lambda k: people[k].sort_key)]
    tables["organisations"], tables["organisation_aliases"] = _organisation_rows(orgs)
    return tables


def _meeting_row(meeting_id: str, source: str, n: int, meeting: Meeting) -> Row:
    return {
        "meeting_id": meeting_id,
        "source": source,
        "ordinal": n,
        "title": meeting.title,
        "group_name": meeting.group,
        "date": meeting.date,
        "year": meeting.date.year if meeting.date else None,
        "date_text": meeting.date_text,
        "date_source": meeting.date_source.value,
        "date_inferred": meeting.date_source not in (DateSource.TITLE, DateSource.UNKNOWN),
        "has_header": meeting.has_header,
        "line": meeting.line,
    }


def _item_rows(
    tables: Tables, meeting_id: str, meeting: Meeting, owners_known: Mapping[str, str]
) -> None:
    coming = {(k, m.value): when for k, m, when in coming_meetings(meeting)}
    parents: list[tuple[int, str]] = []
    for k, item in enumerate(meeting.items, start=1):
        item_id = f"{meeting_id}/i{k:02d}"
        while parents and parents[-1][0] >= item.level:
            parents.pop()
        tables["agenda_items"].append(
            {
                "item_id": item_id,
                "meeting_id": meeting_id,
                "position": k,
                "heading": item.heading,
                "level": item.level,
                "parent_id": parents[-1][1] if parents else None,
                "text": item.text,
                "line": item.line,
            }
        )
        parents.append((item.level, item_id))
        for x, action in enumerate(item.actions, start=1):
            action_id = f"{item_id}/x{x}"
            tables["actions"].append(
                {
                    "action_id": action_id,
                    "item_id": item_id,
                    "meeting_id": meeting_id,
                    "position": x,
                    "kind": action.kind.value,
                    "text": action.text,
                    "owners": len(action.owners),
                    "due_date": due_date(action, meeting.date),
                    "due_text": action.due_text,
                }
            )
            for o, owner in enumerate(action.owners, start=1):
                tables["action_owners"].append(
                    {
                        "action_id": action_id,
                        "position": o,
                        "owner": owner,
                        "person_id": owners_known.get(fold(owner)),
                    }
                )
        position = 0
        for mention in item.mentions:
            key = (k - 1, mention.value)
            if mention.kind is MentionKind.MEETING_DATE and key not in coming:
                continue  # a date in the past of the meeting, not a coming meeting
            position += 1
            tables["mentions"].append(
                {
                    "item_id": item_id,
                    "position": position,
                    "meeting_id": meeting_id,
                    "kind": mention.kind.value,
                    "value": mention.value,
                    "date": coming.get(key) if mention.kind is MentionKind.MEETING_DATE else None,
                }
            )


# --------------------------------------------------------------------------- people


def name_key(name: str) -> str:
    """A person's name folded for matching: case, diacritics and full stops dropped.

    >>> name_key("Mats  Öberg") == name_key("mats oberg")
    True
    """
    return collapse(fold(name).replace(".", " "))


def person_id(name: str) -> str:
    """Stable id of a person: the same for every spelling that folds alike."""
    return "p-" + hashlib.sha1(name_key(name).encode()).hexdigest()[:10]


@dataclass(slots=True)
class _Person:
    spellings: Counter[str]
    dates: list[dt.date]
    meetings: int

    @property
    def name(self) -> str:
        return max(self.spellings, key=lambda s: (self.spellings[s], _non_ascii(s), s))

    @property
    def sort_key(self) -> tuple[str, str]:
        return (name_key(self.name), self.name)

    def row(self) -> Row:
        return {
            "person_id": person_id(self.name),
            "name": self.name,
            "meetings": self.meetings,
            "first_date": min(self.dates) if self.dates else None,
            "last_date": max(self.dates) if self.dates else None,
        }


def _people(meetings: Sequence[tuple[str, str, int, Meeting]]) -> dict[str, _Person]:
    people: dict[str, _Person] = {}
    for *_, meeting in meetings:
        for attendee in meeting.attendees:
            entry = people.setdefault(name_key(attendee.name), _Person(Counter(), [], 0))
            entry.spellings[attendee.name] += 1
            entry.meetings += 1
            if meeting.date:
                entry.dates.append(meeting.date)
    return people


def _attendee_index(meeting: Meeting, people: Mapping[str, _Person]) -> dict[str, str]:
    """Folded names (full, and first names that are unique in the meeting) to person ids."""
    index: dict[str, str] = {}
    firsts: dict[str, list[str]] = defaultdict(list)
    for attendee in meeting.attendees:
        pid = person_id(attendee.name)
        index[fold(attendee.name)] = pid
        firsts[fold(attendee.name.split()[0])].append(pid)
    for first, ids in firsts.items():
        if len(set(ids)) == 1:
            index.setdefault(first, ids[0])
    return index


def _non_ascii(text: str) -> int:
    return sum(1 for c in text if ord(c) > 127)


# --------------------------------------------------------------------------- organisations


@dataclass(frozen=True, slots=True)
class Organisation:
    """One organisation with every spelling seen."""

    organisation_id: str
    name: str
    aliases: tuple[tuple[str, int], ...]
    """Spellings and how often each was written."""


FUZZY_THRESHOLD = 90.0
"""rapidfuzz ratio (0–100) above which two spellings of eight letters or more are one name."""
_SMALL_WORDS = frozenset({"for", "och", "i", "av", "pa", "med", "till", "de", "the", "of"})


def org_key(name: str) -> str:
    """An organisation name folded for matching.

    >>> org_key("Röda  Korset,") == org_key("röda korset")
    True
    """
    return collapse(re.sub(r"[^\w\s]", " ", fold(name)))


def canonical_organisations(names: Iterable[str]) -> dict[str, Organisation]:
    """Group organisation spellings; map each spelling to its organisation.

    Spellings that fold alike are one organisation; so are two whose folded
    forms are at least :data:`FUZZY_THRESHOLD` similar (typos, OCR), and an
    acronym and a name it abbreviates or opens (``IFS`` and ``IFS
    Schizofreniföreningen``). The canonical name is the spelling written most
    often, a full name before an acronym, diacritics before none.

    >>> orgs = canonical_organisations(["IFS", "IFS Schizofreniföreningen", "SBF",
    ...     "Antidiskrimineringsbrån", "Antidiskrimineringsbyrån"])
    >>> orgs["IFS"].name, orgs["Antidiskrimineringsbrån"].name, orgs["SBF"].name
    ('IFS Schizofreniföreningen', 'Antidiskrimineringsbyrån', 'SBF')
    """
    counts = Counter(collapse(n) for n in names if n and n.strip())
    by_key: dict[str, list[str]] = defaultdict(list)
    for spelling in sorted(counts):
        by_key[org_key(spelling)].append(spelling)
    keys = sorted(by_key)
    parent = {k: k for k in keys}

    def find(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            if _same_organisation(a, b, by_key):
                ra, rb = find(a), find(b)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
    clusters: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        clusters[find(key)].extend(by_key[key])
    out: dict[str, Organisation] = {}
    for spellings in clusters.values():
        name = max(
            spellings,
            key=lambda s: (not _is_acronym(s), counts[s], _non_ascii(s), len(s), s),
        )
        org = Organisation(
            "o-" + hashlib.sha1(org_key(name).encode()).hexdigest()[:10],
            name,
            tuple(sorted((s, counts[s]) for s in spellings)),
        )
        for spelling in spellings:
            out[spelling] = org
    return out


def _is_acronym(spelling: str) -> bool:
    return " " not in spelling and 2 <= len(spelling) <= 6 and spelling.isupper()


def _same_organisation(a: str, b: str, spellings: Mapping[str, list[str]]) -> bool:
    short, long_ = sorted((a, b), key=len)
    if any(_is_acronym(s) for s in spellings[short]) and " " in long_:
        words = long_.split()
        initials = "".join(w[0] for w in words if w not in _SMALL_WORDS)
        if words[0] == short or initials == short:
            return True
    if min(len(a), len(b)) < 8 or a[0] != b[0] or re.findall(r"\d", a) != re.findall(r"\d", b):
        return False
    return fuzz.ratio(a, b) >= FUZZY_THRESHOLD


def _organisation_rows(orgs: Mapping[str, Organisation]) -> tuple[list[Row], list[Row]]:
    unique = {o.organisation_id: o for o in orgs.values()}
    org_rows: list[Row] = []
    alias_rows: list[Row] = []
    for org in sorted(unique.values(), key=lambda o: (org_key(o.name), o.organisation_id)):
        org_rows.append(
            {
                "organisation_id": org.organisation_id,
                "name": org.name,
                "aliases": len(org.aliases),
                "affiliations": sum(n for _, n in org.aliases),
            }
        )
        for alias, n in org.aliases:
            alias_rows.append(
                {
                    "alias": alias,
                    "organisation_id": org.organisation_id,
                    "occurrences": n,
                    "similarity": round(fuzz.ratio(org_key(alias), org_key(org.name)), 1),
                }
            )
    alias_rows.sort(key=lambda r: (str(r["organisation_id"]), str(r["alias"])))
    return org_rows, alias_rows


# --------------------------------------------------------------------------- batch dates

_DISTINCTIVE_SHARE = 0.4
"""An event word found in more than this share of a batch's documents is too common to match."""


def infer_batch_dates(
    docs: Sequence[tuple[str, Segmented]],
    *,
    file_dates: Mapping[str, dt.date] | None = None,
    years: Sequence[int] = DEFAULT_YEARS,
) -> dict[tuple[str, int], Meeting]:
    """Meetings whose year the batch settles, keyed by (source, 1-based ordinal).

    A title without a year (``29 maj``) is dated again with more evidence:

    - other documents dated in their titles that mention the same event
      (same day and month, a distinctive word in common such as
      ``CurioCity``) fix the year that event fell in;
    - the weekday the group usually meets on, from its dated meetings;
    - ties go to the year nearest the group's dated meetings.

    Where the batch decides (or breaks a tie the text left), the source
    becomes ``inferred-batch``; where only the file's own date can,
    ``file-metadata``.
    """
    file_dates = file_dates or {}
    known = [
        (source, m)
        for source, seg in docs
        for m in seg.meetings
        if m.date_source is DateSource.TITLE
    ]
    weekdays: dict[str, Counter[int]] = defaultdict(Counter)
    group_years: dict[str, list[int]] = defaultdict(list)
    for _, m in known:
        assert m.date is not None
        weekdays[fold(m.group or "")].update([m.date.weekday()])
        group_years[fold(m.group or "")].append(m.date.year)
    all_years = [y for ys in group_years.values() for y in ys]
    common = _common_event_words(docs)
    known_events: list[tuple[str, dt.date, frozenset[str]]] = []
    for source, m in known:
        assert m.date is not None
        for event in m.events:
            happened = resolve(event.when, m.date)
            words = frozenset(event.words) - common
            if happened is not None and words:
                known_events.append((source, happened, words))

    out: dict[tuple[str, int], Meeting] = {}
    for source, seg in docs:
        for n, m in enumerate(seg.meetings, start=1):
            when = m.title_date
            if when is None or when.year is not None:
                continue
            group = fold(m.group or "")
            support: dict[int, tuple[float, str]] = {}
            for event in m.events:
                words = frozenset(event.words) - common
                for other, day, shared in known_events:
                    if other == source or (day.month, day.day) != (
                        event.when.month,
                        event.when.day,
                    ):
                        continue
                    if not words & shared:
                        continue
                    for year in years:
                        meeting_day = _safe_date(year, when.month, when.day)
                        if meeting_day and resolve(event.when, meeting_day) == day:
                            points, _ = support.get(year, (0.0, ""))
                            common_words = ", ".join(sorted(words & shared))
                            why = f"{other} dates '{event.when.text}' ({common_words}) to {day}"
                            support[year] = (points + 2.0, why)
            usual = m.usual_weekday
            if usual is None and sum(weekdays[group].values()) >= 2:
                day_, count = weekdays[group].most_common(1)[0]
                if count / sum(weekdays[group].values()) >= 0.6:
                    usual = day_
            nearby = list(m.years_mentioned) or group_years.get(group) or all_years
            candidates = rank_years(
                when.day,
                when.month,
                mentions=m.weekday_mentions,
                title_weekday=when.weekday,
                usual=usual,
                years_mentioned=nearby,
                support=support,
                years=years,
            )
            updated = _decide(m, candidates, file_dates.get(source), when.month, when.day)
            if updated is not m:
                out[(source, n)] = updated
    return out


def _decide(
    m: Meeting,
    candidates: tuple[DateCandidate, ...],
    file_date: dt.date | None,
    month: int,
    day: int,
) -> Meeting:
    """The meeting with the date the batch's evidence gives, or unchanged."""
    own = m.date_candidates
    if candidates and decisive(candidates):
        if own and decisive(own) and own[0].date == candidates[0].date:
            return m  # the document's own weekdays had settled it
        return dataclasses.replace(
            m, date=candidates[0].date, date_source=DateSource.BATCH, date_candidates=candidates
        )
    if file_date is not None:
        options = [c.date for c in candidates if c.date <= file_date] or [
            d
            for y in (file_date.year, file_date.year - 1)
            if (d := _safe_date(y, month, day)) is not None and d <= file_date
        ]
        if options:
            return dataclasses.replace(
                m, date=max(options), date_source=DateSource.METADATA, date_candidates=candidates
            )
    if candidates and not own:
        # only the group's usual weekday and the years of its other meetings speak
        return dataclasses.replace(
            m, date=candidates[0].date, date_source=DateSource.BATCH, date_candidates=candidates
        )
    return m


def _common_event_words(docs: Sequence[tuple[str, Segmented]]) -> frozenset[str]:
    frequency: Counter[str] = Counter()
    for _, seg in docs:
        frequency.update({w for m in seg.meetings for e in m.events for w in e.words})
    limit = max(2, int(_DISTINCTIVE_SHARE * len(docs)))
    return frozenset(w for w, n in frequency.items() if n > limit)


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None
