"""Shared test fixtures: the sample corpus, its ground truth, and ``../shared``."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.extract import extract
from pipeline.records import Document

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data" / "raw"
FIXTURES = ROOT / "data" / "fixtures"
SHARED = ROOT.parent / "shared"


@dataclass(frozen=True)
class CorpusEntry:
    raw: Path
    fixture: Path
    form: str
    layout: Path | None

    @property
    def truth(self) -> str:
        """The clean text the minutes were written as."""
        return self.fixture.read_text(encoding="utf-8")

    @property
    def layout_truth(self) -> str:
        """The text as laid out on the rendered pages (what a perfect extractor returns)."""
        return (self.layout or self.fixture).read_text(encoding="utf-8")


def corpus() -> dict[str, CorpusEntry]:
    with (FIXTURES / "corpus.csv").open(encoding="utf-8") as handle:
        return {
            row["form"]: CorpusEntry(
                raw=RAW / row["raw"],
                fixture=FIXTURES / row["fixture"],
                form=row["form"],
                layout=FIXTURES / row["layout"] if row["layout"] else None,
            )
            for row in csv.DictReader(handle)
        }


@pytest.fixture(scope="session")
def sample() -> dict[str, CorpusEntry]:
    return corpus()


_EXTRACTED: dict[Path, Document] = {}


def extract_once(path: Path) -> Document:
    """Extract a corpus file once per test session: OCR is the slow part."""
    if path not in _EXTRACTED:
        _EXTRACTED[path] = extract(path)
    return _EXTRACTED[path]


def shared_or_skip(*parts: str) -> Path:
    """A path under ``../shared``, or skip: CI has it beside the checkout, a clone alone not."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (the real seed minutes live beside the checkout in CI)")
    return path
