"""The benchmark harness's own parts: corpus sizes, process accounting, the report's shape.

Timings are never asserted: they depend on the machine and on whatever else runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT))
from benchmarks import bench, run_bench
from benchmarks.bench import BenchError, Measured, Settings

TEXTS = [
    "Vi ses på mötet i Örebro.\nNärvarande\nÅsa Lind, ordförande\n• Vi behöver lösningar",
    "Gruppen går igenom årets budget och beslutar att återkomma i frågan.",
]
TINY = Settings(
    base_tokens=150,
    scales=(1, 2),
    normalise_processes=1,
    text_copies=1,
    repeats=1,
    scanned=("m08_scan.png",),
    memory_sources=("m04_export.txt",),
    quiet_wait=0.0,
)


def _tokens(documents: list[str]) -> int:
    return sum(len(document.split()) for document in documents)


@pytest.mark.parametrize("tokens", [1, 40, 400])
def test_damaged_corpus_reaches_its_size_in_whole_documents(tokens: int) -> None:
    documents = bench.damaged_corpus(TEXTS, tokens)
    assert _tokens(documents) >= tokens
    assert _tokens(documents[:-1]) < tokens
    assert documents == bench.damaged_corpus(TEXTS, tokens)


def test_damaged_corpus_damages_every_way_and_varies_the_ocr_copies() -> None:
    documents = bench.damaged_corpus(TEXTS, 400)
    stripped = {bench.DAMAGES["stripped"](text, 0) for text in TEXTS}
    assert stripped <= set(documents)
    assert not any(document in TEXTS for document in documents)
    others = [document for document in documents if document not in stripped]
    assert len(others) > len(set(others)) / 2 > 1
    assert len(set(others)) > len(TEXTS)  # a new seed each round


def test_damaged_corpus_needs_text() -> None:
    with pytest.raises(ValueError):
        bench.damaged_corpus(["", " \n"], 10)


def test_corpus_sizes_scale_with_the_ground_truth() -> None:
    texts = bench.ground_truth()
    longest = max(len(text.split()) for text in texts)
    for scale in (1, 4):
        total = _tokens(bench.damaged_corpus(texts, scale * 2_000))
        assert scale * 2_000 <= total < scale * 2_000 + longest


def test_run_measured_counts_the_whole_tree() -> None:
    child = "b = b'x' * 60_000_000; import time; time.sleep(0.5)"
    code = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}], check=True)"
    measured = bench.run_measured([sys.executable, "-c", code], sample=True)
    # The grandchild's 60 MB show in the rusage the parent's wait4 hands up.
    assert measured.max_rss_kb >= 58_000
    assert measured.tree_rss_kb >= 58_000
    assert 0 < measured.tree_pss_kb <= measured.tree_rss_kb
    assert measured.cpu > 0


def test_run_measured_reports_a_failing_command() -> None:
    fail = "import sys; print('bad input', file=sys.stderr); sys.exit(3)"
    with pytest.raises(BenchError, match="exited 3: bad input"):
        bench.run_measured([sys.executable, "-c", fail])
    with pytest.raises(BenchError, match="cannot run"):
        bench.run_measured([str(ROOT / "no-such-program")])


def test_descendants_finds_children() -> None:
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as child:
        try:
            found = bench.descendants(os.getpid())
            assert found[0] == os.getpid()
            assert child.pid in found
        finally:
            child.kill()


def test_machine_busy_time_and_waiting_for_quiet_stop_at_the_deadline() -> None:
    first = bench.busy_seconds()
    logged: list[str] = []
    used = bench.wait_for_quiet(time.monotonic(), logged.append)  # deadline passed: one look
    assert used >= 0
    assert logged == []
    assert bench.busy_seconds() >= first


def _measured(seconds: float, cpu: float) -> Measured:
    return Measured(seconds=seconds, cpu=cpu)


def test_summarise_ocr_takes_the_fastest_run_and_the_ratios() -> None:
    samples = {
        "tesseract": {1: [_measured(12, 11), _measured(10, 10)], 2: [_measured(5, 10)]},
        "minutes run": {1: [_measured(15, 14)], 2: [_measured(10, 15)]},
    }
    report = bench.summarise_ocr(samples, pages=5)
    tesseract, run = report["variants"]["tesseract"], report["variants"]["minutes run"]
    assert tesseract["jobs"]["1"]["seconds_per_page"] == 2.0
    assert tesseract["jobs"]["1"]["samples"] == [12, 10]
    assert tesseract["speedup_2_jobs"] == 2.0
    assert run["jobs"]["1"]["vs_tesseract"] == 1.5
    assert run["jobs"]["2"]["vs_tesseract"] == 2.0
    assert run["jobs"]["1"]["cpu_vs_tesseract"] == 1.4
    assert report["minutes_run_speedup"] == {"value": 1.5, "target": 1.7, "met": False}


def test_a_tiny_run_writes_the_report_and_its_tables(tmp_path: Path) -> None:
    out = tmp_path / "results" / "bench.json"
    logged: list[str] = []
    report = bench.run(TINY, parts=("normalise", "text_layer"), out=out, log=logged.append)
    assert json.loads(out.read_text("utf-8")) == report
    assert report["skipped"] == {}
    assert report["settings"]["scales"] == [1, 2]
    normalise = report["normalise"]
    assert [size["scale"] for size in normalise["sizes"]] == [1, 2]
    for size in normalise["sizes"]:
        assert size["tokens"] >= size["scale"] * TINY.base_tokens
        assert {"first_pass", "second_pass", "one_document"} <= set(size)
    assert normalise["sizes"][0]["first_pass"]["cost_per_token_vs_smallest"] == 1.0
    assert set(normalise["load"]) == {"lexicon", "context", "normalizer"}
    pdfs = report["text_layer"]["files"]
    assert pdfs[1] | {"seconds": 0, "pages_per_s": 0, "samples": []} == {
        "name": "m02_textlayer.pdf",
        "pages": 3,
        "seconds": 0,
        "pages_per_s": 0,
        "samples": [],
    }
    assert pdfs[0]["pages"] > 10
    assert any(line.startswith("normalise 2×") for line in logged)

    report["ocr"] = bench.summarise_ocr(
        {"tesseract": {1: [_measured(2, 2)], 2: [_measured(1, 2)]}}, pages=1
    )
    report["memory"] = {
        "files": ["a.pdf"],
        "runs": [
            {
                "run": "sample corpus (1 files)",
                "jobs": 1,
                "seconds": 1.0,
                "cpu_seconds": 1.0,
                "largest_process_mb": 300.0,
                "tree_rss_mb": 310.0,
                "tree_pss_mb": 305.0,
            }
        ],
        "how": "sampled",
    }
    tables = bench.markdown(report)
    for heading in ("**Normalisation**", "**Text-layer PDF", "**OCR**", "peak memory"):
        assert heading in tables
    assert "| 2× |" in tables
    assert "| tesseract | 2.00 | 1.00× |" in tables


def test_a_part_that_cannot_run_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(settings: Settings, work: Path, log: bench.Log) -> bench.Report:
        raise BenchError("no such tool")

    monkeypatch.setitem(bench.MEASURES, "ocr", broken)
    report = bench.run(TINY, parts=("ocr",), out=None)
    assert report["skipped"] == {"ocr": "BenchError: no such tool"}
    assert "Skipped ocr: BenchError: no such tool" in bench.markdown(report)


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bench.json"
    assert run_bench.main(["--quick", "--part", "text_layer", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| m02_textlayer.pdf | 3 |" in printed
    assert json.loads(out.read_text("utf-8"))["quick"] is True
