"""Tidy tables: keys, canonical organisations, batch year inference, the data package."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from pathlib import Path

import pytest
from conftest import FIXTURES, shared_or_skip

from pipeline.batch import DOCUMENT_FIELDS
from pipeline.export import write_csv
from pipeline.segment import segment
from pipeline.segment.model import DateSource, Segmented
from pipeline.tables import (
    CORRECTIONS,
    TABLES,
    build_tables,
    canonical_organisations,
    datapackage,
    person_id,
    write_tables,
)

frictionless = pytest.importorskip("frictionless")

FIXTURE_FILES = sorted(p for p in FIXTURES.glob("m0*.*") if not p.name.endswith(".json"))


def fixture_docs() -> list[tuple[str, Segmented]]:
    return [(p.name, segment(p.read_text(encoding="utf-8"), source=p.name)) for p in FIXTURE_FILES]


@pytest.fixture(scope="module")
def tables() -> dict[str, list[dict[str, object]]]:
    return build_tables(fixture_docs())


def write_run(out: Path, sources: list[Path], tables: dict[str, list[dict[str, object]]]) -> None:
    """What ``minutes run`` leaves: documents.csv and corrections.csv beside our tables."""
    rows = [
        {
            "source": p.name,
            "sha256": hashlib.sha256(p.read_bytes()).hexdigest(),
            "kind": "markdown" if p.suffix == ".md" else "text",
            "pages": 1,
            "ocr_pages": 0,
            "mean_ocr_confidence": None,
            "encoding": "utf-8",
            "status": "ok",
            "error": None,
        }
        for p in sources
    ]
    write_csv(out / "documents.csv", DOCUMENT_FIELDS, rows)
    correction = {
        "source": sources[0].name,
        "page": 1,
        "line": 3,
        "column": 1,
        "original": "Narvarande",
        "replacement": "Närvarande",
        "stage": "diacritics",
        "confidence": 0.97,
        "applied": True,
        "alternatives": "Narvarande:0.02",
    }
    write_csv(out / "corrections.csv", CORRECTIONS.fields, [correction])
    write_tables(out, tables)


def test_every_table_has_its_declared_columns(tables: dict[str, list[dict[str, object]]]) -> None:
    assert set(tables) == {t.name for t in TABLES}
    for table in TABLES:
        assert tables[table.name], table.name
        for row in tables[table.name]:
            assert tuple(row) == table.fields, table.name


def test_keys_are_unique_and_join(tables: dict[str, list[dict[str, object]]]) -> None:
    for table in TABLES:
        keys = [tuple(row[k] for k in table.primary_key) for row in tables[table.name]]
        assert len(keys) == len(set(keys)), table.name
        for fk in table.foreign_keys:
            if fk.resource not in tables:
                continue  # documents.csv comes from the batch stage
            target = {tuple(r[k] for k in fk.reference) for r in tables[fk.resource]}
            for row in tables[table.name]:
                value = tuple(row[k] for k in fk.fields)
                assert value in target or None in value, (table.name, value)


def test_meetings_and_counts(tables: dict[str, list[dict[str, object]]]) -> None:
    meetings = tables["meetings"]
    assert [m["meeting_id"] for m in meetings] == [f"{p.name}#1" for p in FIXTURE_FILES]
    by_source = {m["source"]: m for m in meetings}
    assert by_source["m04_cp1252.txt"]["date"] == dt.date(2018, 3, 12)
    assert by_source["m04_cp1252.txt"]["date_source"] == "inferred-weekday"
    assert by_source["m04_cp1252.txt"]["date_inferred"] is True
    assert by_source["m08_png.txt"]["group_name"] == "Brukarrådet"
    assert len(tables["attendees"]) == 10 + 10 + 12 + 9 + 10 + 10 + 9 + 6
    assert len(tables["agenda_items"]) == 5 + 6 + 6 + 6 + 6 + 6 + 8 + 3


def test_a_person_has_one_id_across_meetings(tables: dict[str, list[dict[str, object]]]) -> None:
    karin = person_id("Karin Lund")
    rows = [a for a in tables["attendees"] if a["person_id"] == karin]
    assert {a["name"] for a in rows} == {"Karin Lund"}
    assert len({a["meeting_id"] for a in rows}) == 6
    assert person_id("Mats Öberg") == person_id("Mats Oberg") == person_id("mats  öberg")
    people = {p["person_id"]: p for p in tables["people"]}
    assert people[karin]["meetings"] == 6
    assert people[karin]["first_date"] == dt.date(2016, 11, 21)
    names = [a["name"] for a in tables["attendees"]]
    assert len(people) == len(set(names))


def test_affiliations_split_titles_and_organisations(
    tables: dict[str, list[dict[str, object]]],
) -> None:
    holm = [
        a["attendee_id"]
        for a in tables["attendees"]
        if a["name"] == "Nils-Erik Holm" and str(a["meeting_id"]).startswith("m06")
    ]
    rows = [r for r in tables["affiliations"] if r["attendee_id"] in holm]
    assert [(r["title"], r["organisation"]) for r in rows] == [
        ("projektledare", "Hjälpande händer"),
        ("styrelseledamot", "FMN"),
    ]
    orgs = {o["name"] for o in tables["organisations"]}
    assert {"Lyktan", "Bro7", "socialförvaltningen", "Föreningen Nya steg"} <= orgs


def test_actions_owners_and_mentions(tables: dict[str, list[dict[str, object]]]) -> None:
    kinds = Counter(a["kind"] for a in tables["actions"])
    assert kinds["decision"] >= 13 and kinds["action"] >= 15
    owners = {(o["owner"], o["person_id"]) for o in tables["action_owners"]}
    assert ("Martina", None) not in owners
    assert ("Amira", person_id("Amira Haddad")) in owners  # a first name resolved in the meeting
    due = [a for a in tables["actions"] if a["due_date"]]
    assert any(a["due_date"] == dt.date(2018, 10, 22) for a in due)
    kinds_seen = Counter(m["kind"] for m in tables["mentions"])
    assert kinds_seen["url"] >= 7 and kinds_seen["email"] >= 6
    coming = [m["date"] for m in tables["mentions"] if m["kind"] == "meeting-date"]
    assert dt.date(2019, 10, 14) in coming and all(coming)


def test_item_nesting_has_parents(tables: dict[str, list[dict[str, object]]]) -> None:
    items = {i["item_id"]: i for i in tables["agenda_items"]}
    nested = [i for i in items.values() if i["level"] == 2]
    assert [i["heading"] for i in nested] == ["Julfika", "Lokalfrågan", "Cykelverkstad"]
    assert {items[str(i["parent_id"])]["heading"] for i in nested} == {"Övrigt"}


# ----------------------------------------------------------------------------- organisations


def test_organisation_spellings_are_canonicalised() -> None:
    orgs = canonical_organisations(
        [
            "Antidiskrimineringsbrån",
            "Antidiskrimineringsbyrån",
            "Antidiskrimineringsbyrån",
            "IFS",
            "IFS Schizofreniföreningen",
            "Fontanhuset",
            "Fontänhuset",
            "RSMH",
            "Riksförbundet för Social och Mental Hälsa",
            "Region Skåne",
            "Region Östland",
            "SBF",
            "SPF",
            "socialförvaltningen",
            "socialnämnden",
        ]
    )
    assert orgs["Antidiskrimineringsbrån"].name == "Antidiskrimineringsbyrån"
    assert dict(orgs["Antidiskrimineringsbrån"].aliases) == {
        "Antidiskrimineringsbrån": 1,
        "Antidiskrimineringsbyrån": 2,
    }
    assert orgs["IFS"] == orgs["IFS Schizofreniföreningen"]
    assert orgs["IFS"].name == "IFS Schizofreniföreningen"
    assert orgs["Fontanhuset"].name == "Fontänhuset"
    assert orgs["RSMH"].name == "Riksförbundet för Social och Mental Hälsa"
    distinct = [
        "Region Skåne",
        "Region Östland",
        "SBF",
        "SPF",
        "socialförvaltningen",
        "socialnämnden",
    ]
    assert len({orgs[n].organisation_id for n in distinct}) == len(distinct)


def test_organisation_tables_keep_every_alias() -> None:
    docs = [
        (
            "a.txt",
            segment(
                "Rådet 3 maj 2018\n\nNärvarande\n\nAnna Ek, IFS\nBo Lind, Antidiskrimineringsbrån\n"
            ),
        ),
        (
            "b.txt",
            segment(
                "Rådet 7 juni 2018\n\nNärvarande\n\nAnna Ek, IFS Schizofreniföreningen\n"
                "Bo Lind, Antidiskrimineringsbyrån\n"
            ),
        ),
    ]
    tables = build_tables(docs)
    assert [o["name"] for o in tables["organisations"]] == [
        "Antidiskrimineringsbyrån",
        "IFS Schizofreniföreningen",
    ]
    assert sorted(a["alias"] for a in tables["organisation_aliases"]) == [
        "Antidiskrimineringsbrån",
        "Antidiskrimineringsbyrån",
        "IFS",
        "IFS Schizofreniföreningen",
    ]
    assert len({r["organisation_id"] for r in tables["affiliations"]}) == 2
    assert len({a["person_id"] for a in tables["attendees"]}) == 2


# ----------------------------------------------------------------------------- batch dates

UNDATED = (
    "Gemensam utvecklingsgrupp 29 maj\n\nNärvarande\n\nAnna Ek, Lyktan\nBo Lind, FMN\n\n"
    "Vårmässan 1-2 juni\n\nVi ställer ut på Vårmässan. Anna visar montern på fredagen den 2 juni,"
    " dagen efter frukostmötet onsdagen 31 maj.\n"
)


def dated(year: int, mention: bool = True, day: int = 16) -> str:
    body = (
        "Vårmässan\n\n1-2 juni arrangerar staden Vårmässan på Arenan.\n"
        if mention
        else "Lokaler\n\nVi har fått nya lokaler.\n"
    )
    return (
        f"Gemensam utvecklingsgrupp {day} januari {year}\n\nNärvarande\n\nAnna Ek, Lyktan\n\n{body}"
    )


def test_alone_the_tie_goes_to_the_earliest_year() -> None:
    meeting = segment(UNDATED).meetings[0]
    assert meeting.date == dt.date(2017, 5, 29)
    assert meeting.date_source is DateSource.WEEKDAY
    assert [c.date.year for c in meeting.date_candidates] == [2017, 2023, 2028]


@pytest.mark.parametrize("year", [2017, 2023])
def test_the_batch_dates_the_same_event(year: int) -> None:
    docs = [("a.txt", segment(dated(year))), ("b.txt", segment(UNDATED))]
    meetings = {m["source"]: m for m in build_tables(docs)["meetings"]}
    assert meetings["b.txt"]["date"] == dt.date(year, 5, 29)
    assert meetings["b.txt"]["date_source"] == "inferred-batch"
    assert meetings["a.txt"]["date_source"] == "title"


def test_the_batch_without_shared_events_leaves_a_tie_alone() -> None:
    docs = [("a.txt", segment(dated(2023, mention=False))), ("b.txt", segment(UNDATED))]
    meetings = {m["source"]: m for m in build_tables(docs)["meetings"]}
    # the group meets on Mondays, as 29 May is in every candidate year: no new evidence
    assert meetings["b.txt"]["date_source"] == "inferred-weekday"


def test_usual_weekday_and_file_dates() -> None:
    undated = "Gemensam utvecklingsgrupp 29 maj\n\nNärvarande\n\nAnna Ek, Lyktan\n"
    docs = [
        ("a.txt", segment(dated(2016, mention=False, day=18))),  # both Mondays
        ("b.txt", segment(dated(2018, mention=False, day=15))),
        ("c.txt", segment(undated)),
    ]
    by_batch = {m["source"]: m for m in build_tables(docs)["meetings"]}
    # no weekday in the text; the group's Mondays and its years (2016, 2018) point to 2017
    assert by_batch["c.txt"]["date"] == dt.date(2017, 5, 29)
    assert by_batch["c.txt"]["date_source"] == "inferred-batch"
    alone = build_tables([("c.txt", segment(undated))], file_dates={"c.txt": dt.date(2019, 6, 3)})
    assert alone["meetings"][0]["date"] == dt.date(2019, 5, 29)
    assert alone["meetings"][0]["date_source"] == "file-metadata"
    nothing = build_tables([("c.txt", segment(undated))])
    assert nothing["meetings"][0]["date"] is None
    assert nothing["meetings"][0]["date_source"] == "unknown"


# ----------------------------------------------------------------------------- the package


def test_written_package_validates_with_frictionless(
    tmp_path: Path, tables: dict[str, list[dict[str, object]]]
) -> None:
    write_run(tmp_path, FIXTURE_FILES, tables)
    report = frictionless.validate(str(tmp_path / "datapackage.json"))
    assert report.valid, report.flatten(["type", "message"])[:10]
    head = (tmp_path / "meetings.csv").read_text(encoding="utf-8").splitlines()[0]
    assert head.split(",") == list(TABLES[0].fields)


def test_validation_catches_a_broken_foreign_key(
    tmp_path: Path, tables: dict[str, list[dict[str, object]]]
) -> None:
    broken = {**tables, "attendees": [{**tables["attendees"][0], "meeting_id": "nowhere#1"}]}
    write_run(tmp_path, FIXTURE_FILES, broken)
    report = frictionless.validate(str(tmp_path / "datapackage.json"))
    assert not report.valid
    assert "foreign-key" in {e[0] for e in report.flatten(["type"])}


def test_output_is_deterministic(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    write_tables(first, build_tables(fixture_docs()))
    write_tables(second, build_tables(list(reversed(fixture_docs()))))
    for path in sorted(first.iterdir()):
        assert path.read_bytes() == (second / path.name).read_bytes(), path.name


def test_datapackage_describes_every_column() -> None:
    package = datapackage()
    resources = {r["name"]: r for r in package["resources"]}
    assert {"documents", "corrections", *(t.name for t in TABLES)} == set(resources)
    assert [f["name"] for f in resources["documents"]["schema"]["fields"]] == list(DOCUMENT_FIELDS)
    for resource in resources.values():
        fields = {f["name"] for f in resource["schema"]["fields"]}
        assert all(f["description"] and f["type"] for f in resource["schema"]["fields"])
        assert set(resource["schema"].get("primaryKey", [])) <= fields
        for fk in resource["schema"].get("foreignKeys", []):
            assert set(fk["fields"]) <= fields
            target = resources[fk["reference"]["resource"]]
            assert set(fk["reference"]["fields"]) <= {f["name"] for f in target["schema"]["fields"]}


def test_parquet_copies(tmp_path: Path, tables: dict[str, list[dict[str, object]]]) -> None:
    parquet = pytest.importorskip("pyarrow.parquet")
    write_tables(tmp_path, tables)
    meetings = parquet.read_table(tmp_path / "meetings.parquet").to_pylist()
    assert [m["meeting_id"] for m in meetings] == [m["meeting_id"] for m in tables["meetings"]]
    assert meetings[3]["date"] == dt.date(2018, 3, 12)


# ----------------------------------------------------------------------------- the seeds


def test_seed_batch_settles_the_missing_year() -> None:
    folder = shared_or_skip("seeds")
    paths = sorted(folder.glob("*.txt"))
    docs = [(p.name, segment(p.read_text(encoding="utf-8"), source=p.name)) for p in paths]
    tables = build_tables(docs)
    by_prefix = {str(m["source"])[:3]: m for m in tables["meetings"]}
    assert by_prefix["001"]["date"] == dt.date(2017, 5, 29)
    assert by_prefix["001"]["date_source"] == "inferred-batch"
    assert by_prefix["003"]["date_source"] == "unknown" and by_prefix["003"]["has_header"] is False
    # one id per person: three people are listed at three of the meetings
    per_person = Counter(a["person_id"] for a in tables["attendees"])
    assert sorted(per_person.values(), reverse=True)[:4] == [3, 3, 3, 2]
    aliases = {a["alias"]: a["organisation_id"] for a in tables["organisation_aliases"]}
    assert aliases["IFS"] == aliases["IFS Schizofreniföreningen"]
    assert aliases["Antidiskrimineringsbrån"] == aliases["Antidiskrimineringsbyrån"]
