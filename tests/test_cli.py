"""The ``minutes`` command on the sample corpus and on a folder with bad files."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import RAW, CorpusEntry

from pipeline.cli import main


def _minutes(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args], capture_output=True, text=True, check=False
    )


def _checksums(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def test_extract_prints_the_text(sample: dict[str, CorpusEntry]) -> None:
    result = _minutes("extract", str(sample["cp1252-text"].raw))
    assert result.returncode == 0, result.stderr
    assert result.stdout == sample["cp1252-text"].truth


def test_extract_of_a_bad_file_is_one_line_on_stderr(tmp_path: Path) -> None:
    empty = tmp_path / "tom.pdf"
    empty.write_bytes(b"")
    result = _minutes("extract", str(empty))
    assert result.returncode == 3
    assert result.stderr == f"minutes: error: {empty}: file is empty\n"


def test_segment_prints_json(sample: dict[str, CorpusEntry]) -> None:
    result = _minutes("segment", str(sample["cp1252-text"].raw), "--json")
    assert result.returncode == 0, result.stderr
    meeting = json.loads(result.stdout)["meetings"][0]
    assert meeting["date"] == "2018-03-12"
    assert meeting["date_source"] == "inferred-weekday"
    assert any(a["role"] == "note-taker" for a in meeting["attendees"])


def test_usage_error_exits_2() -> None:
    assert _minutes("run", "--jobs", "many").returncode == 2
    assert _minutes("run", "--raw", "/no/such/folder").returncode == 2


@pytest.mark.ocr
def test_run_processes_the_corpus_and_reports_bad_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    (raw / "tom.txt").write_bytes(b"")
    (raw / "trasig.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    (raw / "skräp.txt").write_bytes(bytes(range(256)) * 16)
    (raw / "-ledande streck.txt").write_text("Gemensam utvecklingsgrupp\n", encoding="utf-8")
    before = _checksums(raw)
    out = tmp_path / "out"

    status = main(["run", "--raw", str(raw), "--out", str(out), "--jobs", "2"])

    assert status == 1  # some failed, the rest were written
    assert _checksums(raw) == before, "sources must never be modified"
    with (out / "documents.csv").open(encoding="utf-8", newline="") as handle:
        rows = {row["source"]: row for row in csv.DictReader(handle)}
    assert list(rows) == sorted(rows)
    failed = {name for name, row in rows.items() if row["status"] == "failed"}
    assert failed == {"tom.txt", "trasig.pdf", "skräp.txt"}
    assert rows["tom.txt"]["error"].endswith("tom.txt: file is empty")
    for name in RAW.iterdir():
        row = rows[name.name]
        assert row["status"] == "ok", row
        assert len(row["sha256"]) == 64
        assert (out / "text" / f"{name.name}.txt").read_text(encoding="utf-8").strip()
    assert rows["m01_scan.pdf"]["ocr_pages"] == rows["m01_scan.pdf"]["pages"] == "3"
    assert float(rows["m01_scan.pdf"]["mean_ocr_confidence"]) > 85
    assert rows["m04_export.txt"]["encoding"] == "cp1252"
    assert (
        rows["m02_textlayer.pdf"]["kind"] == "pdf" and rows["m02_textlayer.pdf"]["ocr_pages"] == "0"
    )
    assert (out / "text" / "-ledande streck.txt.txt").exists()

    # The normalised text, its audit trail and the tables are written beside it.
    mojibake_text = (out / "text" / "m05_mojibake.txt.txt").read_text(encoding="utf-8")
    assert "förvaltning" in mojibake_text and "Ã" not in mojibake_text
    with (out / "corrections.csv").open(encoding="utf-8", newline="") as handle:
        corrections = list(csv.DictReader(handle))
    assert {"encoding", "words", "bullets"} <= {row["stage"] for row in corrections}
    assert all(row["source"] in rows for row in corrections)
    for table in ("meetings", "attendees", "affiliations", "organisations", "agenda_items"):
        assert (out / f"{table}.csv").exists(), table
    assert (out / "datapackage.json").exists()

    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("minutes: ")]
    assert sum(1 for line in errors if any(name in line for name in failed)) == 3
