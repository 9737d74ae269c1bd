"""The bundled sample corpus is what ``scripts/make_corpus.py`` makes from the fixtures."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from conftest import FIXTURES, RAW, ROOT, CorpusEntry

sys.path.insert(0, str(ROOT / "scripts"))
import make_corpus


def test_corpus_covers_every_input_form(sample: dict[str, CorpusEntry]) -> None:
    assert set(sample) == {
        "scanned-pdf",
        "text-layer-pdf",
        "tiff-scan",
        "png-scan",
        "cp1252-text",
        "mojibake-text",
        "stripped-text",
        "markdown",
    }
    total = sum(entry.raw.stat().st_size for entry in sample.values())
    assert total < 5_000_000, "keep the sample corpus small"
    for entry in sample.values():
        expected = json.loads(entry.fixture.with_suffix(".expected.json").read_text("utf-8"))
        assert expected["meetings"][0]["title"] in entry.truth


def test_generator_reproduces_the_committed_corpus(tmp_path: Path) -> None:
    fixtures = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, fixtures)
    raw = tmp_path / "raw"
    rows = make_corpus.build(fixtures, raw)
    assert (fixtures / "corpus.csv").read_bytes() == (FIXTURES / "corpus.csv").read_bytes()
    for row in rows:
        if row["layout"]:
            # Image encoders differ across Pillow builds; the laid-out text must not.
            assert (fixtures / row["layout"]).read_text("utf-8") == (
                FIXTURES / row["layout"]
            ).read_text("utf-8")
        else:
            assert (raw / row["raw"]).read_bytes() == (RAW / row["raw"]).read_bytes()


def test_damage_helpers() -> None:
    assert make_corpus.strip_diacritics("Förvaltningen på Åby är idé") == (
        "Forvaltningen pa Aby ar ide"
    )
    assert make_corpus.mojibake("förvaltning") == "fÃ¶rvaltning"
