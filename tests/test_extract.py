"""Extraction of every input form of the sample corpus, checked against ground truth."""

from __future__ import annotations

import codecs
import shutil
from pathlib import Path

import pytest
from bad_inputs import slow_pdf
from conftest import CorpusEntry, extract_once, shared_or_skip

from pipeline.exceptions import (
    CorruptFile,
    EmptyFile,
    EncryptedPdf,
    UnreadableFile,
    UnsupportedFormat,
)
from pipeline.extract import OcrOptions, extract, recognise
from pipeline.extract.preview import page_preview
from pipeline.metrics import cer
from pipeline.records import PageKind, SourceKind

# Character error rates reached on this corpus (see the README); the bounds
# leave room for Tesseract builds that differ slightly, not for regressions.
OCR_CER_BOUND = 0.025


@pytest.mark.ocr
@pytest.mark.parametrize("form", ["scanned-pdf", "tiff-scan", "png-scan"])
def test_scans_are_ocred_close_to_ground_truth(sample: dict[str, CorpusEntry], form: str) -> None:
    entry = sample[form]
    document = extract_once(entry.raw)
    assert document.pages, "no pages"
    assert all(page.kind is PageKind.OCR for page in document.pages)
    assert document.ocr_pages == len(document.pages) == entry.layout_truth.count("\f") + 1
    assert cer(document.text, entry.layout_truth) < OCR_CER_BOUND
    # Per-word confidences are kept, and a clean scan is recognised confidently.
    assert all(0 <= w.confidence <= 100 for p in document.pages for w in p.words)
    assert document.mean_ocr_confidence is not None and document.mean_ocr_confidence > 85


@pytest.mark.ocr
@pytest.mark.parametrize("form", ["scanned-pdf", "tiff-scan"])
def test_a_page_preview_made_with_its_ocr_is_the_one_the_review_would_render(
    sample: dict[str, CorpusEntry], form: str
) -> None:
    entry = sample[form]
    kind = SourceKind.PDF if entry.raw.suffix == ".pdf" else SourceKind.IMAGE
    recognised = recognise(entry.raw, kind, 1, preview=True)
    assert recognised.page.text.strip()
    assert recognised.preview is not None and recognised.preview.startswith(b"\xff\xd8")
    # Same bytes either way: a run that was killed between the two, or reuses cached OCR,
    # writes the review a later uninterrupted run would.
    assert recognised.preview == page_preview(entry.raw, kind, 1)
    assert recognise(entry.raw, kind, 1).preview is None


def test_text_layer_pdf_is_read_without_ocr(sample: dict[str, CorpusEntry]) -> None:
    entry = sample["text-layer-pdf"]
    document = extract_once(entry.raw)
    assert document.kind is SourceKind.PDF
    assert {page.kind for page in document.pages} == {PageKind.TEXT_LAYER}
    assert document.ocr_pages == 0
    assert cer(document.text, entry.layout_truth) < 0.001


def test_text_layer_drops_running_header_and_footer(sample: dict[str, CorpusEntry]) -> None:
    document = extract_once(sample["text-layer-pdf"].raw)
    assert len(document.pages) >= 2
    assert "Sida 1 av" not in document.text
    assert "minnesanteckningar" not in document.text
    assert any("header/footer" in note for note in document.notes)


def test_text_layer_keeps_line_end_hyphens_for_the_normaliser(
    sample: dict[str, CorpusEntry],
) -> None:
    entry = sample["text-layer-pdf"]
    hyphenated = [line for line in entry.layout_truth.splitlines() if line.endswith("-")]
    assert hyphenated, "the rendered corpus should break some words at line ends"
    text = extract_once(entry.raw).text
    assert all(line in text for line in hyphenated)


def test_text_layer_keeps_paragraph_breaks(sample: dict[str, CorpusEntry]) -> None:
    entry = sample["text-layer-pdf"]
    assert (
        extract_once(entry.raw).text.split("\f")[0].splitlines()[:3]
        == (entry.layout_truth.splitlines()[:3])
    )


def test_cp1252_export_is_detected_and_decoded(sample: dict[str, CorpusEntry]) -> None:
    entry = sample["cp1252-text"]
    document = extract(entry.raw)
    assert document.encoding == "cp1252"
    assert document.text == entry.truth


def test_mojibake_file_is_read_as_utf8_and_left_for_the_normaliser(
    sample: dict[str, CorpusEntry],
) -> None:
    document = extract(sample["mojibake-text"].raw)
    assert document.encoding == "utf-8"
    assert "fÃ¶r" in document.text


def test_stripped_and_markdown_files_are_plain_pages(sample: dict[str, CorpusEntry]) -> None:
    stripped = extract(sample["stripped-text"].raw)
    assert stripped.kind is SourceKind.TEXT and stripped.pages[0].kind is PageKind.PLAIN
    assert "socialforvaltningen" in stripped.text
    markdown = extract(sample["markdown"].raw)
    assert markdown.kind is SourceKind.MARKDOWN
    assert markdown.text == sample["markdown"].truth


def test_document_records_hash_and_source(sample: dict[str, CorpusEntry]) -> None:
    import hashlib

    entry = sample["cp1252-text"]
    document = extract(entry.raw)
    assert document.sha256 == hashlib.sha256(entry.raw.read_bytes()).hexdigest()
    assert document.source == entry.raw


def test_format_is_judged_by_content_not_name(
    sample: dict[str, CorpusEntry], tmp_path: Path
) -> None:
    disguised = tmp_path / "really-a-pdf.txt"
    shutil.copy(sample["text-layer-pdf"].raw, disguised)
    document = extract(disguised)
    assert document.kind is SourceKind.PDF
    assert "Närvarande" in document.text


@pytest.mark.parametrize(
    ("text", "encoding", "expected"),
    [
        ("Vi träffas på måndag för att se över året.", "cp1252", "cp1252"),
        ("Vi träffas på måndag för att se över året.", "cp437", "cp850"),
        ("Vi träffas på måndag för att se över året.", "utf-16", "utf-16"),
        ("Vi träffas på måndag för att se över året.", "utf-8-sig", "utf-8"),
        ("Öppet hus – ”välkomna” • 25 €", "cp1252", "cp1252"),
    ],
)
def test_text_encodings_are_detected(
    tmp_path: Path, text: str, encoding: str, expected: str
) -> None:
    path = tmp_path / "minutes.txt"
    path.write_bytes(text.encode(encoding))
    document = extract(path)
    # cp437 and cp850 share every Swedish letter: either decodes the text right.
    assert document.text == text
    assert codecs.lookup(document.encoding or "").name == expected


def test_a_utf8_mark_before_a_cp1252_export_is_read_past(tmp_path: Path) -> None:
    text = "Vi träffas på måndag för att se över året."
    path = tmp_path / "minutes.txt"
    path.write_bytes(codecs.BOM_UTF8 + text.encode("cp1252"))
    document = extract(path)
    assert document.text == text and document.encoding == "cp1252"


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"", EmptyFile),
        (b"   \n\n", EmptyFile),
        (bytes(range(256)) * 8, UnsupportedFormat),
        (b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF", CorruptFile),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, CorruptFile),
        (codecs.BOM_UTF16_LE + b"\x00\xd8" + bytes(range(256)), UnsupportedFormat),
    ],
    ids=["empty", "blank", "binary-junk", "corrupt-pdf", "truncated-png", "utf16-mark-junk"],
)
def test_bad_input_raises_a_one_line_error_naming_the_file(
    tmp_path: Path, content: bytes, error: type[Exception]
) -> None:
    path = tmp_path / "bad input.txt"
    path.write_bytes(content)
    with pytest.raises(error) as caught:
        extract(path)
    assert caught.value.path == path  # type: ignore[attr-defined]
    assert "\n" not in str(caught.value)


def test_a_pdf_too_slow_to_parse_is_given_up_after_the_page_timeout(tmp_path: Path) -> None:
    path = tmp_path / "seg.pdf"
    path.write_bytes(slow_pdf())  # about 8 s of parsing
    with pytest.raises(CorruptFile, match=r"too slow to parse: reading page 1 took over 0\.5 s"):
        extract(path, OcrOptions(timeout=0.5))


def test_encrypted_pdf_is_reported(tmp_path: Path, sample: dict[str, CorpusEntry]) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(sample["text-layer-pdf"].raw))
    writer.encrypt("hemligt")
    path = tmp_path / "locked.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    with pytest.raises(EncryptedPdf):
        extract(path)


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="no such file"):
        extract(tmp_path / "absent.pdf")
    with pytest.raises(UnreadableFile, match="directory"):
        extract(tmp_path)
    loop = tmp_path / "loop.txt"
    loop.symlink_to(loop)
    with pytest.raises(UnreadableFile):
        extract(loop)


def test_real_seed_minutes_decode_as_utf8() -> None:
    seeds = shared_or_skip("seeds")
    for path in sorted(seeds.glob("*.txt")):
        document = extract(path)
        assert document.encoding == "utf-8", path
        assert "utvecklingsgrupp" in document.text or "Gruppens" in document.text, path
