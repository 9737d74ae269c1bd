"""``minutes run`` on whole folders: bad input, parallel work, caching, and runs that are killed."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from bad_inputs import MINUTES, make_bad_corpus, slow_pdf, snapshot
from conftest import RAW, CorpusEntry, extract_once

from pipeline import _concurrent, manifest, teach
from pipeline.batch import RunOptions, Work, run
from pipeline.exceptions import UsageError
from pipeline.extract import OcrOptions, draft, ocr_page_of
from pipeline.records import PageKind

# --------------------------------------------------------------------------- helpers


def _minutes(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipeline", *args]


def _rows(out: Path) -> dict[str, dict[str, str]]:
    with (out / "documents.csv").open(encoding="utf-8", newline="") as handle:
        return {row["source"]: row for row in csv.DictReader(handle)}


def _files(out: Path) -> dict[str, bytes]:
    """Every file under ``out`` by relative path; cached cleaning results by count only.

    Their keys hash the package's code, which may differ between two runs of a test
    session only if someone edits it meanwhile; the rest must match byte for byte.
    """
    found: dict[str, bytes] = {}
    for path in sorted(out.rglob("*")):
        if not path.is_file():
            continue
        relative = path.relative_to(out).as_posix()
        data = path.read_bytes()
        if relative.startswith(".cache/cleaned/"):
            relative = f".cache/cleaned/#{len([k for k in found if 'cleaned/' in k])}"
        elif relative == ".cache/manifest.json":
            entries = json.loads(data)
            for entry in entries["sources"].values():
                entry.pop("cleaned")
            data = json.dumps(entries, sort_keys=True).encode()
        found[relative] = data
    return found


def _text_file(text: str = MINUTES) -> bytes:
    return text.encode("utf-8")


def _unprivileged() -> tuple[str, ...] | None:
    """A command prefix under which file permissions hold, or ``None`` if there is none.

    root reads any file; without the capability to override permissions it does not.
    """
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    caps = "-dac_override,-dac_read_search"
    return (setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}")


# --------------------------------------------------------------------------- bad input


def test_every_bad_file_fails_alone_and_nothing_else_is_touched(
    tmp_path: Path, sample: dict[str, CorpusEntry]
) -> None:
    prefix = _unprivileged()
    raw, out = tmp_path / "raw", tmp_path / "out"
    expected = make_bad_corpus(
        raw,
        pdf=sample["text-layer-pdf"].raw,
        scan=sample["png-scan"].raw,
        unreadable=prefix is not None,
    )
    before = snapshot(raw)

    proc = subprocess.run(
        [*(prefix or ()), *_minutes("run", "--raw", str(raw), "--out", str(out), "-j", "2", "-q")],
        capture_output=True,
        text=True,
        check=False,
    )

    assert proc.returncode == 1, proc.stderr  # some failed, the others were written
    rows = _rows(out)
    assert set(rows) == set(expected)
    assert list(rows) == sorted(rows)
    lines = proc.stderr.splitlines()
    failed = {name: words for name, words in expected.items() if words is not None}
    assert len(lines) == len(failed), proc.stderr
    for name, words in expected.items():
        row = rows[name]
        if words is None:
            assert row["status"] == "ok", row
            assert (out / "text" / f"{name}.txt").read_text(encoding="utf-8").strip()
            continue
        assert row["status"] == "failed", row
        assert words in row["error"], row
        assert row["error"].startswith(f"{raw}/{name}: "), row
        said = [line for line in lines if line.startswith(f"minutes: {raw}/{name}: ")]
        assert len(said) == 1 and words in said[0], said
    assert rows["-skannad sida.png"]["ocr_pages"] == "1"
    # Sources untouched, nothing written beside --out, no output for a failed source.
    assert snapshot(raw) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "raw"]
    written = {p.relative_to(out / "text").as_posix() for p in (out / "text").rglob("*.txt")}
    assert written == {f"{name}.txt" for name, words in expected.items() if words is None}


def test_a_page_that_takes_too_long_fails_its_document_and_is_retried_next_run(
    tmp_path: Path, sample: dict[str, CorpusEntry]
) -> None:
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    shutil.copy(sample["png-scan"].raw, raw / "skannad.png")
    (raw / "anteckningar.txt").write_bytes(_text_file())
    said: list[str] = []

    hurried = RunOptions(ocr=OcrOptions(timeout=0.01))  # far less than Tesseract needs
    result = run(raw, out, hurried, jobs=1, report=said.append)

    assert [o.source for o in result.failed] == ["skannad.png"]
    assert said == [f"minutes: {raw}/skannad.png: page 1: Tesseract timed out after 0.01 s"]
    assert _rows(out)["anteckningar.txt"]["status"] == "ok"
    assert not (out / "text" / "skannad.png.txt").exists()

    # A failure is not remembered: the next run tries again, and reuses the rest.
    result = run(raw, out, RunOptions(), jobs=1, report=said.append)
    work = {o.source: o.work for o in result.outcomes}
    assert work == {"anteckningar.txt": Work.UNCHANGED, "skannad.png": Work.EXTRACTED}
    assert "Närvarande" in (out / "text" / "skannad.png.txt").read_text(encoding="utf-8")


def test_a_pdf_that_keeps_the_parser_busy_is_given_up_in_a_worker(tmp_path: Path) -> None:
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    (raw / "seg.pdf").write_bytes(slow_pdf())  # about 8 s of parsing
    (raw / "anteckningar.txt").write_bytes(_text_file())

    proc = subprocess.run(
        _minutes("run", "--raw", str(raw), "--out", str(out), "-j", "2", "--page-timeout", "1"),
        capture_output=True,
        text=True,
        check=False,
    )

    assert proc.returncode == 1
    line = f"minutes: {raw}/seg.pdf: PDF too slow to parse: reading page 1 took over 1 s; given up"
    assert line in proc.stderr.splitlines()
    rows = _rows(out)
    assert rows["seg.pdf"]["status"] == "failed" and "too slow" in rows["seg.pdf"]["error"]
    assert rows["anteckningar.txt"]["status"] == "ok"


def test_folders_that_overlap_are_a_usage_error(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    with pytest.raises(UsageError):
        run(raw, raw)
    (tmp_path / "out" / "text").mkdir(parents=True)
    with pytest.raises(UsageError):
        run(tmp_path / "out" / "text", tmp_path / "out")
    # An output folder inside the sources is fine: it is not read as a source.
    (raw / "a.txt").write_bytes(_text_file())
    run(raw, raw / "clean", jobs=1)
    assert set(_rows(raw / "clean")) == {"a.txt"}
    run(raw, raw / "clean", jobs=1)
    assert set(_rows(raw / "clean")) == {"a.txt"}


def test_two_runs_cannot_write_one_folder_at_once(tmp_path: Path) -> None:
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    (raw / "a.txt").write_bytes(_text_file())
    with manifest.locked(out), pytest.raises(UsageError, match="another minutes run"):
        run(raw, out, jobs=1)
    run(raw, out, jobs=1)  # the lock goes with the run that held it
    assert _rows(out)["a.txt"]["status"] == "ok"


# --------------------------------------------------------------------------- incremental runs


def test_a_rerun_redoes_only_what_changed_and_removes_what_went(tmp_path: Path) -> None:
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    # Short texts are not evidence for the others, so each document stands alone here.
    for name in ("a.txt", "b.txt", "c.txt", "d.txt"):
        (raw / name).write_bytes(_text_file(f"Möte {name}\nVi ses pÃ¥ mÃ¶tet.\n"))

    first = run(raw, out, jobs=1)
    assert {o.work for o in first.outcomes} == {Work.EXTRACTED}
    outputs = _files(out)
    stamps = {p: p.stat().st_mtime_ns for p in (out / "text").iterdir()}

    again = run(raw, out, jobs=1)
    assert {o.work for o in again.outcomes} == {Work.UNCHANGED}
    assert _files(out) == outputs
    assert {p: p.stat().st_mtime_ns for p in (out / "text").iterdir()} == stamps

    (raw / "b.txt").write_bytes(_text_file("Möte b.txt\nEtt nytt beslut.\n"))
    (raw / "c.txt").unlink()
    (raw / "d.txt").rename(raw / "e.txt")
    (raw / "f.txt").write_bytes(_text_file("Möte f.txt\nNy fil.\n"))
    changed = run(raw, out, jobs=1)
    assert {o.source: o.work for o in changed.outcomes} == {
        "a.txt": Work.UNCHANGED,
        "b.txt": Work.EXTRACTED,
        "e.txt": Work.RENORMALISED,  # same content under a new name: not read again
        "f.txt": Work.EXTRACTED,
    }
    assert set(_rows(out)) == {"a.txt", "b.txt", "e.txt", "f.txt"}
    assert sorted(p.name for p in (out / "text").iterdir()) == [
        "a.txt.txt",
        "b.txt.txt",
        "e.txt.txt",
        "f.txt.txt",
    ]
    # The cache holds what the last run rests on, no more.
    cache = out / manifest.CACHE_DIR
    assert len(list((cache / manifest.DOCUMENTS).iterdir())) == 4
    assert len(list((cache / manifest.CLEANED).iterdir())) == 4
    recorded = json.loads((cache / "manifest.json").read_text(encoding="utf-8"))
    assert recorded["complete"] and sorted(recorded["sources"]) == [
        "a.txt",
        "b.txt",
        "e.txt",
        "f.txt",
    ]

    outputs = _files(out)
    forced = run(raw, out, jobs=1, force=True)
    assert {o.work for o in forced.outcomes} == {Work.EXTRACTED}
    assert _files(out) == outputs


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """The sample corpus and its outputs from one uninterrupted run in one process."""
    root = tmp_path_factory.mktemp("reference")
    raw, out = root / "raw", root / "out"
    shutil.copytree(RAW, raw)
    proc = subprocess.run(
        _minutes("run", "--raw", str(raw), "--out", str(out), "--jobs", "1", "-q"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    yield raw, out


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def _kill_when(command: list[str], ready: Callable[[], bool], log: Path) -> None:
    """Start ``command``, SIGKILL it (not its workers) once ``ready()`` holds."""
    with log.open("ab") as stderr:
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
    deadline = time.monotonic() + 300
    while not ready() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    workers = _children(proc.pid) if proc.poll() is None else set()
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL, "the run finished before it could be killed"
    # Its workers die with it rather than linger.
    deadline = time.monotonic() + 60
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers)


@pytest.mark.ocr
def test_a_run_killed_twice_then_resumed_writes_what_an_uninterrupted_one_does(
    reference: tuple[Path, Path], tmp_path: Path
) -> None:
    raw, expected = reference
    out = tmp_path / "out"
    command = _minutes("run", "--raw", str(raw), "--out", str(out), "--jobs", "2", "-q")
    pages = out / manifest.CACHE_DIR / manifest.PAGES

    # Killed once the first text is written, then again once one more page is OCR'd.
    _kill_when(
        command, lambda: (out / "text").is_dir() and any((out / "text").iterdir()), tmp_path / "log"
    )
    before = len(list(pages.iterdir())) if pages.is_dir() else 0
    _kill_when(
        command, lambda: pages.is_dir() and len(list(pages.iterdir())) > before, tmp_path / "log"
    )
    proc = subprocess.run(command, capture_output=True, text=True, check=False)

    assert proc.returncode == 0, proc.stderr
    assert _files(out) == _files(expected)  # no missing, duplicated, truncated or stray file


def test_an_unchanged_rerun_reuses_everything(reference: tuple[Path, Path], tmp_path: Path) -> None:
    raw, expected = reference
    out = tmp_path / "out"
    shutil.copytree(expected, out)
    result = run(raw, out, jobs=2)
    assert {o.work for o in result.outcomes} == {Work.UNCHANGED}
    assert _files(out) == _files(expected)


@pytest.mark.ocr
def test_forced_rerun_is_byte_identical(reference: tuple[Path, Path], tmp_path: Path) -> None:
    raw, expected = reference
    out = tmp_path / "out"
    shutil.copytree(expected, out)
    result = run(raw, out, jobs=2, force=True)
    assert {o.work for o in result.outcomes} == {Work.EXTRACTED}
    assert _files(out) == _files(expected)


def _rerun_with_lexicons(
    reference: tuple[Path, Path], tmp_path: Path, edit: Callable[[Path], None]
) -> tuple[Path, str]:
    """Re-run into a copy of the reference outputs with an edited copy of the lexicons;
    check no document was extracted again; return the outputs and stderr."""
    raw, expected = reference
    out = tmp_path / "out"
    shutil.copytree(expected, out)
    documents = out / manifest.CACHE_DIR / manifest.DOCUMENTS
    extracted = {p.name: p.stat().st_mtime_ns for p in documents.iterdir()}
    lexicons = tmp_path / "lexicons"
    shutil.copytree(RAW.parent.parent / "lexicons", lexicons)
    edit(lexicons)
    env = {**os.environ, "MINUTES_LEXICONS": str(lexicons), "MINUTES_CACHE": str(tmp_path / "c")}
    proc = subprocess.run(
        _minutes("run", "--raw", str(raw), "--out", str(out), "--jobs", "2"),
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert {p.name: p.stat().st_mtime_ns for p in documents.iterdir()} == extracted  # no OCR
    return out, proc.stderr


def _recorded_lexicons(out: Path) -> str:
    manifest_file = out / manifest.CACHE_DIR / "manifest.json"
    return str(json.loads(manifest_file.read_text("utf-8"))["lexicons"])


def test_a_changed_lexicon_renormalises_without_ocr(
    reference: tuple[Path, Path], tmp_path: Path
) -> None:
    def edit(lexicons: Path) -> None:
        with (lexicons / "domain.tsv").open("a", encoding="utf-8") as handle:
            handle.write("\nsammanträdesrummet\t1e-6\n")

    out, stderr = _rerun_with_lexicons(reference, tmp_path, edit)
    assert "8 of 8 documents processed (0 unchanged, 8 normalised again)" in stderr
    assert _recorded_lexicons(out) != _recorded_lexicons(reference[1])


def test_a_taught_word_renormalises_only_the_documents_it_can_touch(
    reference: tuple[Path, Path], tmp_path: Path
) -> None:
    # The stripped export reads "Volontarcentralen", which the normaliser restores; the
    # mojibake one has "VolontÃ¤rcentralen", the same word once its encoding is repaired;
    # the scanned PDF has it too. The other five documents cannot be changed by it.
    touched = {"m01_scan.pdf", "m05_mojibake.txt", "m06_stripped.txt"}
    word = "Volontarcentralen"
    raw, expected = reference
    assert word in (raw / "m06_stripped.txt").read_text("utf-8")
    assert word not in (expected / "text" / "m06_stripped.txt.txt").read_text("utf-8")

    out, stderr = _rerun_with_lexicons(
        reference, tmp_path, lambda lexicons: teach.protect([word], lexicons)
    )

    assert "8 of 8 documents processed (5 unchanged, 3 normalised again)" in stderr
    assert _recorded_lexicons(out) == _recorded_lexicons(expected)
    for text in sorted((expected / "text").iterdir()):
        again = (out / "text" / text.name).read_text("utf-8")
        if text.name.removesuffix(".txt") in touched:
            continue
        assert again == text.read_text("utf-8"), text.name
    assert word in (out / "text" / "m06_stripped.txt.txt").read_text("utf-8")  # kept as written


# --------------------------------------------------------------------------- parallel work


@pytest.mark.ocr
def test_pages_of_a_scan_are_separate_tasks_that_add_up_to_extract(
    sample: dict[str, CorpusEntry],
) -> None:
    path = sample["scanned-pdf"].raw
    drafted = draft(path)
    assert drafted.pending == (1, 2, 3)  # three tasks, so one scan keeps two cores busy
    whole = extract_once(path)
    page = ocr_page_of(path, drafted.kind, 2)
    assert page == whole.pages[1] and page.kind is PageKind.OCR


def _square(x: int) -> int:
    return x * x


def _die(code: int) -> int:
    os._exit(code)


def test_runner_survives_a_worker_that_dies_and_blames_only_it() -> None:
    with _concurrent.Runner[str](2) as runner:
        for n in range(6):
            runner.submit(f"square {n}", _square, n)
        runner.submit("die", _die, 3)
        for n in range(6, 9):
            runner.submit(f"square {n}", _square, n, priority=1)
        results = {done.key: done for done in runner}
    assert isinstance(results.pop("die").error, _concurrent.WorkerCrashed)
    assert {key: done.value for key, done in results.items()} == {
        f"square {n}": n * n for n in range(9)
    }


_STATE = {"loaded": "before"}


def _state(pause: float = 0.0) -> str:
    time.sleep(pause)  # still running when the pool is renewed
    return _STATE["loaded"]


def test_renewed_workers_share_what_was_loaded_after_the_first_fork() -> None:
    with _concurrent.Runner[str](2) as runner:
        runner.submit("old worker", _state, 0.5)
        runner.dispatch()
        _STATE["loaded"] = "after"
        try:
            runner.renew()
            runner.submit("new worker", _state)
            results = {done.key: done.value for done in runner}
        finally:
            _STATE["loaded"] = "before"
    assert results == {"old worker": "before", "new worker": "after"}


def test_runner_takes_tasks_by_priority() -> None:
    with _concurrent.Runner[str](1) as runner:
        runner.submit("late", _square, 1, priority=2)
        runner.submit("early", _square, 2, priority=0)
        runner.submit("middle", _square, 3, priority=1)
        assert [done.key for done in runner] == ["early", "middle", "late"]
