"""The review report (pipeline.review) and teaching the lexicon (pipeline.teach)."""

from __future__ import annotations

import csv
import hashlib
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import RAW, ROOT, extract_once
from PIL import Image

from pipeline import teach
from pipeline.batch import Outcome
from pipeline.cli import main
from pipeline.extract import extract
from pipeline.normalise import Normalizer, default_normalizer, normalize
from pipeline.normalise.context import load_context
from pipeline.normalise.lexicon import load
from pipeline.normalise.words import Confusions
from pipeline.records import Change
from pipeline.review import (
    CSS,
    HIGH,
    band,
    decision_rows,
    describe,
    page_name,
    place,
    render_line,
    write_review,
)

THRESHOLD = 0.98
"""High enough that the stripped text gets proposals besides applied corrections."""

EVIL_NAME = 'evil"><img src=x onerror=alert(1)>.txt'
EVIL_TEXT = (
    "Protokoll fort vid motet\n"
    "Vi ses pa <script>alert('pwned')</script> motet.\n"
    '"><img src=x onerror=alert(2)> pa fredag\n'
    "</textarea><style>body{display:none}</style> ocksa\n"
)
HIGH_COLOUR = (0xC6, 0xEF, 0xCE)
"""The background of a sure correction (``--hi`` in review.CSS)."""


@dataclass(frozen=True)
class Review:
    out: Path
    outcomes: tuple[Outcome, ...]
    sources: dict[str, Path]

    @property
    def root(self) -> Path:
        return self.out / "review"

    def page(self, source: str) -> Path:
        return self.root / "doc" / page_name(source)


def _outcome(source: str, path: Path, *, ocr_cached: bool = False) -> Outcome:
    document = extract_once(path) if ocr_cached else extract(path)
    normalized = normalize(document.text, threshold=THRESHOLD, ocr=document.ocr_pages > 0)
    return Outcome(
        source=source, document=document, text=normalized.text, changes=normalized.changes
    )


@pytest.fixture(scope="module")
def review(tmp_path_factory: pytest.TempPathFactory) -> Review:
    raw = tmp_path_factory.mktemp("raw")
    evil = raw / "evil.txt"
    evil.write_text(EVIL_TEXT, encoding="utf-8")
    outcomes = (
        _outcome("m02_textlayer.pdf", RAW / "m02_textlayer.pdf"),
        _outcome("m06_stripped.txt", RAW / "m06_stripped.txt"),
        _outcome("m08_scan.png", RAW / "m08_scan.png", ocr_cached=True),
        _outcome(EVIL_NAME, evil),
        Outcome(
            source="broken<script>.pdf",
            document=None,
            text=None,
            error="broken<script>.pdf: <b>not</b> a PDF",
        ),
    )
    sources = {
        "m02_textlayer.pdf": RAW / "m02_textlayer.pdf",
        "m06_stripped.txt": RAW / "m06_stripped.txt",
        "m08_scan.png": RAW / "m08_scan.png",
        EVIL_NAME: evil,
    }
    out = tmp_path_factory.mktemp("out")
    write_review(out, outcomes, sources)
    return Review(out, outcomes, sources)


class _Page(HTMLParser):
    """Every start tag with its attributes, and the text, of one HTML page."""

    def __init__(self, path: Path) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(path.read_text(encoding="utf-8"))
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def marks(self) -> list[dict[str, str]]:
        """The marks of corrections in the text (not those of the legend)."""
        return [
            a
            for t, a in self.tags
            if t == "mark" and "fix" in a["class"].split() and "key" not in a["class"].split()
        ]

    def images(self) -> list[str]:
        return [a["src"] for t, a in self.tags if t == "img"]


def _checksums(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# --------------------------------------------------------------------------- placing


def test_place_finds_each_replacement_where_its_column_says() -> None:
    line = "Det är så att det är fint"
    changes = [
        Change("words", 1, 5, "ar", "är", 1.0),
        Change("words", 1, 8, "sa", "så", 0.9),
        Change("words", 1, 19, "ar", "är", 0.7),
    ]
    marks, lost = place(line, changes)
    assert [(line[m.start : m.end], m.start) for m in marks] == [("är", 4), ("så", 7), ("är", 18)]
    assert [m.changes[0].confidence for m in marks] == [1.0, 0.9, 0.7]
    assert lost == []


def test_place_shows_removals_proposals_and_what_it_cannot_find() -> None:
    line = "Vi ses pa mötet"
    removal = Change("specks", 1, 8, "|", "", 1.0)  # "Vi ses | pa ..." before the stage
    proposal = Change("words", 1, 8, "pa", "på", 0.4, applied=False)
    rewritten = Change("encoding", 1, 1, "Vi sÃ¤s", "Vi säs", 1.0)  # a later stage changed it
    marks, lost = place(line, [removal, proposal, rewritten])
    assert [(m.start, m.end) for m in marks] == [(7, 7), (7, 9)]
    assert lost == [rewritten]
    html = render_line(line, [removal, proposal, rewritten])
    assert 'class="fix proposal" title="pa → på? (words, 0.40, not applied)"' in html
    assert 'data-suggest="på"' in html
    assert 'class="fix high gone" title="| removed (specks, 1.00)"' in html
    assert 'class="fix high elsewhere"' in html


# --------------------------------------------------------------------------- the report


def test_index_lists_every_document_with_its_summary(review: Review) -> None:
    index = _Page(review.root / "index.html")
    links = [a["href"] for t, a in index.tags if t == "a" and a.get("href", "").startswith("doc/")]
    assert len(links) == 4  # every document but the failed one
    for href in links:
        assert (review.root / href).is_file()
    text = "".join(index.text)
    assert "failed: broken<script>.pdf: <b>not</b> a PDF" in text  # escaped, shown as text
    assert "m08_scan.png" in text and "94.9" in text  # mean OCR confidence
    assert any(t == "a" and a.get("href") == "decisions.csv" for t, a in index.tags)


def test_every_correction_is_highlighted_with_its_hover_text(review: Review) -> None:
    for outcome in review.outcomes:
        if not outcome.ok:
            continue
        page = _Page(review.page(outcome.source))
        titles = "\n".join(m["title"] for m in page.marks())
        for change in outcome.changes:
            assert describe(change) in titles
        # Every change was found on its line, none fell back to the end of the line.
        assert not any("elsewhere" in m["class"] for m in page.marks()), outcome.source
    stripped = _Page(review.page("m06_stripped.txt"))
    assert {"title": "Narvarande → Närvarande (words, 1.00)", "class": "fix high"} in (
        stripped.marks()
    )
    proposals = [m for m in stripped.marks() if "proposal" in m["class"]]
    assert proposals and all(m["data-suggest"] and "not applied" in m["title"] for m in proposals)
    assert all(
        m["class"] == "fix high"
        for m in stripped.marks()
        if "proposal" not in m["class"] and "(words, 1.00)" in m["title"]
    )


def test_cleaned_text_is_shown_line_for_line(review: Review) -> None:
    outcome = next(o for o in review.outcomes if o.source == "m06_stripped.txt")
    assert outcome.text is not None
    page = _Page(review.page("m06_stripped.txt"))
    lines = [a for t, a in page.tags if t == "div" and a.get("class") == "line"]
    assert len(lines) == len(outcome.text.split("\n"))
    assert "".join(page.text).count("Närvarande") >= 1


def test_scans_and_pdfs_have_page_images(review: Review) -> None:
    for source, pages in (("m08_scan.png", 1), ("m02_textlayer.pdf", 3)):
        images = _Page(review.page(source)).images()
        assert len(images) == pages
        for src in images:
            assert src.startswith("../img/") and src.endswith(".jpg")
            with Image.open(review.page(source).parent / src) as image:
                # An A4 page at about 100 dpi.
                assert 780 <= image.width <= 880 and 1100 <= image.height <= 1240
    assert _Page(review.page("m06_stripped.txt")).images() == []


def test_document_text_cannot_inject_markup(review: Review) -> None:
    pages = [review.root / "index.html", *sorted((review.root / "doc").glob("*.html"))]
    for path in pages:
        page = _Page(path)
        assert not [t for t, _ in page.tags if t in {"script", "iframe", "object", "embed"}]
        for tag, attrs in page.tags:
            assert not [a for a in attrs if a.startswith("on")], (path.name, tag, attrs)
            for name in ("src", "href"):
                assert not attrs.get(name, "").startswith(("http:", "https:", "//", "javascript:"))
        for src in page.images():
            assert (path.parent / src).resolve().is_file()
        # Only the report's own stylesheet: an injected <style> would be a second one.
        assert [t for t, _ in page.tags].count("style") == 1
    evil = _Page(review.page(EVIL_NAME))
    text = "".join(evil.text)
    assert "<script>alert('pwned')</script>" in text
    assert '"><img src=x onerror=alert(2)>' in text
    assert EVIL_NAME in text


def test_decisions_csv_lists_each_word_correction_once(review: Review) -> None:
    with (review.root / "decisions.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and set(rows[0]) == set(teach.DECISION_FIELDS)
    pairs = [(r["original"], r["replacement"]) for r in rows]
    assert len(pairs) == len(set(pairs))
    assert all(r["decision"] == "" for r in rows)
    settled = [r["status"] == "applied" for r in rows]
    assert settled == sorted(settled) and not settled[0]  # rows with proposals come first
    pa = next(r for r in rows if (r["original"], r["replacement"]) == ("pa", "på"))
    assert int(pa["occurrences"]) > 1 and EVIL_NAME in pa["sources"]
    hyphenated = {c.original for o in review.outcomes for c in o.changes if c.stage != "words"}
    assert not hyphenated & {r["original"] for r in rows}


def test_decisions_already_made_survive_a_new_run(review: Review, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(review.out, out)
    decisions = out / "review" / "decisions.csv"
    rows = list(csv.DictReader(decisions.open(encoding="utf-8", newline="")))
    rows[0]["decision"] = "reject"
    with decisions.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=teach.DECISION_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    write_review(out, review.outcomes, review.sources)
    again = list(csv.DictReader(decisions.open(encoding="utf-8", newline="")))
    assert again[0]["decision"] == "reject"
    assert [r["original"] for r in again] == [r["original"] for r in rows]


def test_review_is_deterministic_and_prunes_what_left_the_batch(
    review: Review, tmp_path: Path
) -> None:
    write_review(tmp_path, review.outcomes, review.sources)
    assert _checksums(tmp_path / "review") == _checksums(review.root)
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "review").rglob("*") if p.is_file()}
    write_review(tmp_path, review.outcomes, review.sources)
    after = {p: p.stat().st_mtime_ns for p in (tmp_path / "review").rglob("*") if p.is_file()}
    assert after == before  # nothing unchanged is rewritten, no image is rendered again
    kept = [o for o in review.outcomes if o.source != "m02_textlayer.pdf"]
    write_review(tmp_path, kept, review.sources)
    assert not (tmp_path / "review" / "doc" / page_name("m02_textlayer.pdf")).exists()
    assert len(list((tmp_path / "review" / "img").glob("*.jpg"))) == 1  # m08's page only


# --------------------------------------------------------------------------- in Chromium


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("chromium")
    if exe is None:
        pytest.skip("chromium is not installed (make setup installs Debian's chromium)")
    with tempfile.TemporaryDirectory(prefix="minutes-chromium-") as profile:
        return subprocess.run(
            [
                exe,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--window-size=1400,1000",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )


def test_chromium_renders_highlights_hover_text_and_page_image(
    review: Review, tmp_path: Path
) -> None:
    scan = review.page("m08_scan.png")
    dom = _chromium("--dump-dom", scan.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    rendered = tmp_path / "scan.html"
    rendered.write_text(dom.stdout, encoding="utf-8")
    page = _Page(rendered)
    assert page.images() and page.images()[0].startswith("../img/")
    marks = page.marks()
    assert marks and all("→" in m["title"] or "removed" in m["title"] for m in marks)
    assert not [t for t, _ in page.tags if t == "script"]

    shot = tmp_path / "review.png"
    result = _chromium(f"--screenshot={shot}", scan.as_uri())
    assert result.returncode == 0 and shot.is_file(), result.stderr[-2000:]
    with Image.open(shot) as image:
        assert image.size == (1400, 1000)
        grey = image.convert("L")
        # The scan sits in the left column: dark print there means the image was drawn.
        scan_box = grey.crop((40, 250, 600, 950))
        dark = sum(scan_box.histogram()[:100])
        assert dark > 0.01 * scan_box.width * scan_box.height

    stripped_shot = tmp_path / "stripped.png"
    result = _chromium(f"--screenshot={stripped_shot}", review.page("m06_stripped.txt").as_uri())
    assert result.returncode == 0 and stripped_shot.is_file(), result.stderr[-2000:]
    with Image.open(stripped_shot) as image:
        text_box = image.convert("RGB").crop((0, 250, 1400, 1000))
        colours = {colour: count for count, colour in text_box.getcolors(1 << 24) or ()}
        highlighted = colours.get(HIGH_COLOUR, 0)
        assert highlighted > 5000  # many sure corrections drawn in the text, not just the legend


# --------------------------------------------------------------------------- teaching

TEACH_TEXT = (
    "Protokoll fort vid motet.\n"
    "Sedan talade Soderberg om projektet Framtidsvaxt och om Gladjebacken.\n"
)


@pytest.fixture(scope="module")
def taught_normalizer(tmp_path_factory: pytest.TempPathFactory) -> Normalizer:
    """A normaliser on a copy of lexicons/ taught through the CLI and a decisions CSV."""
    lexicons = tmp_path_factory.mktemp("lexicons") / "lexicons"
    shutil.copytree(ROOT / "lexicons", lexicons)
    assert main(["lexicon", "--lexicons", str(lexicons), "protect", "Soderberg"]) == 0
    before = normalize(TEACH_TEXT)
    outcome = Outcome("teach.txt", None, before.text, changes=before.changes)
    decisions = tmp_path_factory.mktemp("decisions") / "decisions.csv"
    rows = decision_rows([outcome])
    for row in rows:
        if row["original"] == "Framtidsvaxt":  # the project really is spelt so: keep it
            row.update(decision="accept", replacement="Framtidsvaxt")
        elif row["original"] == "Gladjebacken":  # a place spelt without its dots: protect
            row["decision"] = "reject"
        elif row["original"] == "motet":
            row["decision"] = "accept"
    with decisions.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=teach.DECISION_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    # The copy differs from lexicons/ only in what is taught here, so the installed lexicon
    # can tell which words are known without building a cache for the copy.
    teach.apply_decisions(decisions, lexicons, is_word=default_normalizer().lexicon.is_word)
    cache = tmp_path_factory.mktemp("cache")  # not ~/.cache: one build per test session
    return Normalizer(
        load(lexicons, cache_dir=cache),
        Confusions.load(lexicons / "confusions.tsv"),
        load_context(),
    )


def test_taught_words_stay_as_written_on_the_next_run(taught_normalizer: Normalizer) -> None:
    before = {c.original: c for c in normalize(TEACH_TEXT).changes}
    assert before["Soderberg"].replacement == "Söderberg"
    assert before["Framtidsvaxt"].replacement == "Framtidsväxt"
    assert before["Gladjebacken"].replacement == "Glädjebacken"
    after = taught_normalizer(TEACH_TEXT)
    flagged = {c.original for c in after.changes}  # applied or only proposed
    assert not flagged & {"Soderberg", "Framtidsvaxt", "Gladjebacken"}
    assert "Soderberg om projektet Framtidsvaxt och om Gladjebacken" in after.text
    # Corrections nobody objected to still happen.
    assert after.text.startswith("Protokoll fört vid mötet.")


def test_taught_lists_keep_their_comments_and_are_written_once(
    taught_normalizer: Normalizer,
) -> None:
    folder = taught_normalizer.lexicon.lexicon_dir
    accepted = (folder / "user" / "accept.txt").read_text(encoding="utf-8")
    protected = (folder / "user" / "protect.txt").read_text(encoding="utf-8")
    original = (ROOT / "lexicons" / "user" / "accept.txt").read_text(encoding="utf-8")
    assert accepted.startswith(original)
    assert accepted[len(original) :] == "Framtidsvaxt\n"  # mötet is a word already
    assert protected.endswith("Soderberg\nGladjebacken\n")
    assert teach.accept(["Framtidsvaxt"], folder) == ()
    assert teach.protect(["Soderberg", "Gladjebacken"], folder) == ()
    assert taught_normalizer.lexicon.is_protected("Soderberg")
    assert taught_normalizer.lexicon.is_word("Framtidsvaxt")


def test_decisions_semantics(tmp_path: Path) -> None:
    decisions = tmp_path / "decisions.csv"
    decisions.write_bytes(
        "\ufefforiginal;replacement;decision;status\n"
        "stod;stöd;reject;proposed\n"
        "Kvarnbysko1an;Kvarnbyskolan;accept;applied\n"
        "pa;på;Accept;applied\n"
        "Mötesfika;;accept;proposed\n"
        "'-Lund;'-Lünd;reject;proposed\n"
        "vara;våra;;proposed\n".encode()
    )
    taught = teach.apply_decisions(decisions, tmp_path, is_word=lambda w: w == "på")
    assert taught.protected == ("stod", "Lund")
    assert taught.accepted == ("Kvarnbyskolan", "Mötesfika")
    assert (taught.decided, taught.undecided) == (5, 1)
    assert teach.list_words(tmp_path / "user" / "accept.txt") == ["Kvarnbyskolan", "Mötesfika"]
    again = teach.apply_decisions(decisions, tmp_path, is_word=lambda w: w == "på")
    assert again.words == frozenset()


def test_a_bad_decision_names_its_row_and_changes_nothing(tmp_path: Path) -> None:
    decisions = tmp_path / "decisions.csv"
    decisions.write_text(
        "original,replacement,decision\nstod,stöd,reject\nsa,så,maybe\n", encoding="utf-8"
    )
    with pytest.raises(teach.TeachError, match="row 3"):
        teach.apply_decisions(decisions, tmp_path, is_word=lambda w: True)
    assert not (tmp_path / "user").exists()
    assert main(["lexicon", "--lexicons", str(tmp_path), "decisions", str(decisions)]) == 2


def test_cli_applies_decisions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    decisions = tmp_path / "decisions.csv"
    decisions.write_text(
        "original,replacement,decision\nSoderberg,Söderberg,reject\nsa,så,\n", encoding="utf-8"
    )
    assert main(["lexicon", "--lexicons", str(tmp_path), "decisions", str(decisions)]) == 0
    assert (
        "1 decisions (1 rows undecided): 0 words accepted, 1 protected" in capsys.readouterr().out
    )
    assert teach.list_words(tmp_path / "user" / "protect.txt") == ["Soderberg"]


def test_affected_finds_the_documents_a_lesson_can_change() -> None:
    texts = {
        "names": "Talade: Soderberg, FMN",
        "hyphen": "besök i Kvarn-\nbyskolan i går",
        "ocr": "Kvarnbysko1an har fått nya lokaler",
        "other": "Protokoll fört vid mötet",
    }
    assert {k for k, t in texts.items() if teach.affected(["Söderberg"], t)} == {"names"}
    assert {k for k, t in texts.items() if teach.affected(["Kvarnbyskolan"], t)} == {
        "hyphen",
        "ocr",
    }
    assert not teach.affected([], texts["names"])
    # A lesson on a word inside a compound reaches the compound.
    assert teach.affected(["kvarnby"], texts["ocr"], texts["other"])


def test_user_entries_tell_what_changed(tmp_path: Path) -> None:
    before = teach.user_entries(tmp_path)
    teach.accept(["mötesfika"], tmp_path)
    teach.protect(["Soderberg"], tmp_path)
    changed = {word for _, word in before ^ teach.user_entries(tmp_path)}
    assert changed == {"mötesfika", "Soderberg"}


def test_high_band_is_what_the_css_colours_green() -> None:
    assert band(HIGH) == "high" and band(0.9) == "medium" and band(0.5) == "low"
    red, green, blue = HIGH_COLOUR
    assert f"--hi:#{red:02x}{green:02x}{blue:02x}" in CSS
