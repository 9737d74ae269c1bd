"""Speed and memory of the pipeline on this machine: the measurements behind ``make bench``.

Four parts, each one section of the report:

- ``normalise``: tokens per second of :class:`pipeline.normalise.Normalizer` on one
  core, on damaged copies of our own ground truth at 1×, 4× and 16× a base size, each
  size in a fresh process (so nothing was memoised before its first pass), and the
  lexicon and context model load times of those processes;
- ``text_layer``: pages per second of :func:`pipeline.extract.extract` on text-layer PDFs;
- ``ocr``: seconds per page on the scanned sample pages for the plain ``tesseract``
  command, the pipeline's OCR call, the whole ``minutes run`` and ``ocrmypdf --sidecar``,
  each with 1 and 2 jobs;
- ``memory``: peak memory of ``minutes run`` on the sample corpus.

Compared variants run interleaved, each ``repeats`` times, and the fastest run of
each counts: other work on the machine only ever adds time. Each OCR round first
waits, within a budget, for other processes to leave the cores alone, and every
run notes how many cores they used meanwhile. Absolute figures are this
machine's; the ratios are what carries over.
"""

from __future__ import annotations

import json
import os
import platform
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from statistics import median
from typing import Any, cast

from benchmarks.damage import Damage, _make_corpus, ocr_confusions, strip_diacritics
from benchmarks.evaluate import load_texts, write_report

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data" / "raw"
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "bench.json"

PARTS = ("normalise", "text_layer", "ocr", "memory")
SCANNED = ("m01_scan.pdf", "m03_scan.tiff", "m08_scan.png")
"""The scanned part of the sample corpus: 3 + 3 + 1 pages."""
TEXT_LAYER_SAMPLE = "m02_textlayer.pdf"
CORPUS_SOURCES = ("fixtures", "dev")
"""Ground truth the normalisation corpus is made from (``test`` stays held out)."""
DAMAGES: dict[str, Damage] = {"stripped": strip_diacritics, "ocr-sim": ocr_confusions}
JOBS_SPEEDUP_TARGET = 1.7
"""Issue 5: ``--jobs 2`` on the scanned corpus at least this much faster than ``--jobs 1``."""
TIMEOUT = 900.0
"""Seconds any one measured command may take."""
SAMPLE_INTERVAL = 0.05
"""Seconds between two readings of a process tree's memory."""

Report = dict[str, Any]
Log = Callable[[str], None]


class BenchError(RuntimeError):
    """A measurement could not be made (a command failed, a tool is missing)."""


@dataclass(frozen=True)
class Settings:
    """How much to measure; :data:`FULL` is ``make bench``, :data:`QUICK` a smoke run."""

    base_tokens: int = 10_000
    scales: tuple[int, ...] = (1, 4, 16)
    normalise_processes: int = 3
    """Fresh processes per corpus size and way; the fastest pass counts, load times the median."""
    text_copies: int = 2
    """Times the ground-truth texts are concatenated into the long text-layer PDF."""
    repeats: int = 3
    """Runs of each timed variant in the PDF and OCR parts; the fastest counts."""
    scanned: tuple[str, ...] = SCANNED
    memory_sources: tuple[str, ...] | None = None
    """Files of ``data/raw`` the memory part runs on; ``None``: all of them."""
    jobs: tuple[int, ...] = (1, 2)
    quiet_wait: float = 60.0
    """Seconds each part may wait in all for other processes to leave the cores alone."""


FULL = Settings()
QUICK = Settings(
    base_tokens=1_000,
    normalise_processes=1,
    text_copies=1,
    repeats=1,
    scanned=("m03_scan.tiff",),
    memory_sources=("m03_scan.tiff", "m04_export.txt"),
    quiet_wait=10.0,
)


# --- measuring commands ----------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """One run of one command (or of a set of commands, summed)."""

    seconds: float
    """Wall-clock time."""
    cpu: float
    """User plus system CPU seconds of the process and every descendant it waited for."""
    max_rss_kb: int = 0
    """Peak RSS of the largest single process of the tree (the kernel's ``ru_maxrss``)."""
    tree_rss_kb: int = 0
    """Peak of the tree's summed RSS, sampled (0: not sampled)."""
    tree_pss_kb: int = 0
    """Peak of the tree's summed PSS, sampled: shared pages split between their users."""
    others_cpu: float = 0.0
    """CPU seconds the rest of the machine spent meanwhile: its busy time less ``cpu``."""


def run_measured(
    cmd: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    sample: bool = False,
    timeout: float = TIMEOUT,
) -> Measured:
    """Run ``cmd`` to its end; raise :class:`BenchError` unless it exits 0.

    Its resource usage comes from ``wait4``, so it covers the whole tree of
    processes the command waited for. With ``sample`` a thread also reads the
    tree's memory from ``/proc`` every :data:`SAMPLE_INTERVAL` seconds.
    """
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        try:
            proc = subprocess.Popen(
                list(cmd), stdout=subprocess.DEVNULL, stderr=errors, env=env, cwd=cwd
            )
        except OSError as error:
            raise BenchError(f"cannot run {cmd[0]}: {error}") from error
        peaks = [0, 0]
        done = threading.Event()

        def watch() -> None:
            while not done.wait(SAMPLE_INTERVAL):
                rss, pss = tree_memory(proc.pid)
                peaks[0], peaks[1] = max(peaks[0], rss), max(peaks[1], pss)

        watcher = threading.Thread(target=watch, daemon=True) if sample else None
        if watcher:
            watcher.start()
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        # wait4 rather than Popen.wait: only it returns the rusage of the tree.
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        killer.cancel()
        done.set()
        if watcher:
            watcher.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            errors.seek(0)
            tail = errors.read().decode("utf-8", "replace").strip().splitlines()[-3:]
            raise BenchError(f"{' '.join(cmd[:3])} … exited {proc.returncode}: {' | '.join(tail)}")
    return Measured(
        seconds=seconds,
        cpu=usage.ru_utime + usage.ru_stime,
        max_rss_kb=usage.ru_maxrss,
        tree_rss_kb=peaks[0],
        tree_pss_kb=peaks[1],
    )


def descendants(root: int) -> list[int]:
    """``root`` and every process below it, from ``/proc`` (Linux)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        # The command name may hold spaces and parentheses; the fields after it do not.
        ppid = int(stat.rpartition(")")[2].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    todo = [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


_ROLLUP = re.compile(r"^(Rss|Pss):\s+(\d+) kB", re.MULTILINE)


def tree_memory(root: int) -> tuple[int, int]:
    """Summed RSS and PSS in kB of ``root`` and its descendants, now."""
    rss = pss = 0
    for pid in descendants(root):
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        for name, kb in _ROLLUP.findall(rollup):
            if name == "Rss":
                rss += int(kb)
            else:
                pss += int(kb)
    return rss, pss


def _env(omp_threads: int | None) -> dict[str, str]:
    """This environment with ``OMP_THREAD_LIMIT`` set, or removed so the tool decides."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_THREAD_LIMIT"}
    if omp_threads is not None:
        env["OMP_THREAD_LIMIT"] = str(omp_threads)
    return env


def _python_env() -> dict[str, str]:
    env = _env(None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (``/proc/stat``).

    Time stolen by the hypervisor counts as busy: it is as unavailable to us.
    """
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _with_others(measure: Callable[[], Measured]) -> Measured:
    """``measure()``, noting how much CPU the rest of the machine used meanwhile."""
    before = busy_seconds()
    measured = measure()
    return replace(measured, others_cpu=max(0.0, busy_seconds() - before - measured.cpu))


QUIET_CORES = 0.25
"""Below this many cores used by other processes the machine counts as quiet."""


def wait_for_quiet(deadline: float, log: Log) -> float:
    """Wait until other processes use under :data:`QUIET_CORES`, or ``deadline`` (monotonic).

    Returns the cores they used over the last second. Only the rest of the
    machine is busy while this waits: nothing of ours runs.
    """
    while True:
        before = busy_seconds()
        time.sleep(1.0)
        used = busy_seconds() - before
        if used < QUIET_CORES or time.monotonic() >= deadline:
            return used
        log(f"waiting for a quieter machine: other processes use {used:.2f} cores")
        time.sleep(min(5.0, max(0.0, deadline - time.monotonic())))


def _best(samples: Sequence[Measured]) -> Measured:
    return min(samples, key=lambda m: m.seconds)


# --- normalisation -------------------------------------------------------------------


def ground_truth(sources: Sequence[str] = CORPUS_SOURCES) -> list[str]:
    """The clean texts the normalisation corpus is made from, in a stable order."""
    found = load_texts()
    return [text.text for source in sources for text in found[source]]


def damaged_corpus(texts: Sequence[str], tokens: int, seed: int = 0) -> list[str]:
    """Damaged documents, at least ``tokens`` whitespace tokens in all, whole documents only.

    Each round damages every text in every way of :data:`DAMAGES` and shuffles
    the round; rounds repeat until the size is reached. Simulated OCR takes a new
    seed each round, so its copies differ; stripped copies repeat word for word.
    """
    if not any(text.split() for text in texts):
        raise ValueError("no ground-truth text to make a corpus from")
    documents: list[str] = []
    total = 0
    round_ = 0
    while total < tokens:
        batch = [
            damage(text, seed + 1000 * round_ + i)
            for i, text in enumerate(texts)
            for damage in DAMAGES.values()
        ]
        random.Random(seed + round_).shuffle(batch)
        for document in batch:
            if total >= tokens:
                break
            documents.append(document)
            total += len(document.split())
        round_ += 1
    return documents


def normalise_child(corpus_file: Path, cpu: int | None) -> dict[str, float]:
    """In a fresh process: load times, then a first and a second pass over the corpus."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    from pipeline.normalise import Normalizer, context, lexicon

    documents: list[str] = json.loads(corpus_file.read_text("utf-8"))
    started = time.perf_counter()
    lexicon.load()
    loaded_lexicon = time.perf_counter()
    context.load_context()
    loaded_context = time.perf_counter()
    # The lexicon is kept in-process by now: this adds the confusion table and a context model.
    normalizer = Normalizer.load()
    loaded = time.perf_counter()
    passes: list[float] = []
    for _ in range(2):
        begun = time.perf_counter()
        for document in documents:
            normalizer(document)
        passes.append(time.perf_counter() - begun)
    return {
        "lexicon_s": loaded_lexicon - started,
        "context_s": loaded_context - loaded_lexicon,
        "normalizer_s": loaded - loaded_context,
        "first_pass_s": passes[0],
        "second_pass_s": passes[1],
    }


def _normalise_in_process(corpus_file: Path, cpu: int | None) -> dict[str, float]:
    """:func:`normalise_child` in a fresh process, and the cores others used meanwhile."""
    cmd = [sys.executable, "-m", "benchmarks.bench", "normalise", str(corpus_file)]
    if cpu is not None:
        cmd += ["--cpu", str(cpu)]
    started, busy, ours = time.perf_counter(), busy_seconds(), _children_cpu()
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env=_python_env(), cwd=ROOT, timeout=TIMEOUT
    )
    others = busy_seconds() - busy - (_children_cpu() - ours)
    if proc.returncode != 0:
        raise BenchError(f"normalisation process failed: {proc.stderr.strip()[-500:]}")
    figures = cast(dict[str, float], json.loads(proc.stdout.strip().splitlines()[-1]))
    figures["others_cores"] = max(0.0, others) / (time.perf_counter() - started)
    return figures


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure_normalise(settings: Settings, work: Path, log: Log) -> Report:
    """Throughput per corpus size on one core, each size in fresh processes.

    Every size runs twice per round: as its documents, and as one document whose
    pages they are (a long scan), which would show a cost growing with length.
    """
    texts = ground_truth()
    cpu = _one_core()
    work.mkdir(parents=True, exist_ok=True)
    sizes: list[dict[str, Any]] = []
    files: list[tuple[Path, Path]] = []
    for scale in settings.scales:
        documents = damaged_corpus(texts, scale * settings.base_tokens)
        tokens = [token for document in documents for token in document.split()]
        apart, joined = work / f"corpus-{scale}x.json", work / f"corpus-{scale}x-joined.json"
        apart.write_text(json.dumps(documents, ensure_ascii=False), "utf-8")
        joined.write_text(json.dumps(["\f".join(documents)], ensure_ascii=False), "utf-8")
        files.append((apart, joined))
        sizes.append(
            {
                "scale": scale,
                "documents": len(documents),
                "tokens": len(tokens),
                "distinct_tokens": len(set(tokens)),
            }
        )
    runs: list[dict[str, list[dict[str, float]]]] = [{"apart": [], "joined": []} for _ in sizes]
    deadline = time.monotonic() + settings.quiet_wait
    for round_ in range(settings.normalise_processes):  # sizes interleaved: drift hits all alike
        wait_for_quiet(deadline, log)
        for i, size in enumerate(sizes):
            for how, corpus_file in zip(("apart", "joined"), files[i], strict=True):
                runs[i][how].append(_normalise_in_process(corpus_file, cpu))
                last = runs[i][how][-1]
                log(
                    f"normalise {size['scale']}× ({how}), process {round_ + 1}: "
                    f"{size['tokens']:,} tokens in {last['first_pass_s']:.2f} s "
                    f"(others used {last['others_cores']:.2f} cores)"
                )
    for size, by_how in zip(sizes, runs, strict=True):
        for name, how, key in (
            ("first_pass", "apart", "first_pass_s"),
            ("second_pass", "apart", "second_pass_s"),
            ("one_document", "joined", "first_pass_s"),
        ):
            seconds = min(run[key] for run in by_how[how])
            size[name] = {
                "seconds": round(seconds, 4),
                "tokens_per_s": round(size["tokens"] / seconds),
                "samples": [round(run[key], 4) for run in by_how[how]],
            }
    for name in ("first_pass", "one_document"):
        unit = sizes[0][name]["seconds"] / sizes[0]["tokens"]
        for size in sizes:
            cost = size[name]["seconds"] / size["tokens"]
            size[name]["cost_per_token_vs_smallest"] = round(cost / unit, 3)
    every = [run for by_how in runs for how_runs in by_how.values() for run in how_runs]
    return {
        "core": cpu,
        "processes_per_size": settings.normalise_processes,
        "damage": list(DAMAGES),
        "sources": list(CORPUS_SOURCES),
        "load": {
            key.removesuffix("_s"): round(median(run[key] for run in every), 4)
            for key in ("lexicon_s", "context_s", "normalizer_s")
        },
        "load_samples": len(every),
        "others_cores": [
            round(min(r["others_cores"] for r in every), 2),
            round(max(r["others_cores"] for r in every), 2),
        ],
        "sizes": sizes,
    }


def _one_core() -> int | None:
    try:
        return max(os.sched_getaffinity(0))
    except AttributeError:  # not Linux: leave it to the scheduler
        return None


# --- text-layer PDFs -----------------------------------------------------------------


def text_layer_pdf(path: Path, copies: int) -> int:
    """Write a born-digital PDF of the ground-truth texts, ``copies`` times over; its pages."""
    corpus = _make_corpus()
    render = cast(Callable[[str, Path, str], str], corpus.render_text_pdf)
    text = "\n\n".join(ground_truth() * copies)
    layout = render(text, path, "Benchmark: protokoll i följd")
    return layout.count("\f") + 1


def measure_text_layer(settings: Settings, work: Path, log: Log) -> Report:
    """Pages per second of extraction from text-layer PDFs (no OCR), in this process."""
    from pipeline.extract import extract
    from pipeline.records import PageKind

    work.mkdir(parents=True, exist_ok=True)
    long_pdf = work / "ground-truth.pdf"
    text_layer_pdf(long_pdf, settings.text_copies)
    extract(RAW / TEXT_LAYER_SAMPLE)  # first call pays for lazy imports
    files: list[Report] = []
    for name, path in (
        ("ground truth, concatenated", long_pdf),
        (TEXT_LAYER_SAMPLE, RAW / TEXT_LAYER_SAMPLE),
    ):
        seconds: list[float] = []
        pages = 0
        for _ in range(settings.repeats):
            started = time.perf_counter()
            document = extract(path)
            seconds.append(time.perf_counter() - started)
            pages = len(document.pages)
            if any(page.kind is not PageKind.TEXT_LAYER for page in document.pages):
                raise BenchError(f"{name}: some pages were not read from the text layer")
        best = min(seconds)
        log(f"text layer {name}: {pages} pages in {best:.2f} s")
        files.append(
            {
                "name": name,
                "pages": pages,
                "seconds": round(best, 4),
                "pages_per_s": round(pages / best, 2),
                "samples": [round(s, 4) for s in seconds],
            }
        )
    return {"files": files}


# --- OCR -----------------------------------------------------------------------------


def page_images(sources: Sequence[Path], out: Path) -> list[Path]:
    """Every page of the scanned sources as the image file the pipeline would OCR.

    PDF pages are rendered by ``pdftoppm -r 300 -gray`` (PGM); image frames are
    saved as PNM by Pillow, as ``pipeline.extract.image`` does.
    """
    from PIL import Image, ImageSequence

    out.mkdir(parents=True, exist_ok=True)
    images: list[Path] = []
    for source in sources:
        if source.suffix.lower() == ".pdf":
            root = out / source.stem
            subprocess.run(
                ["pdftoppm", "-q", "-r", "300", "-gray", str(source), str(root)],
                check=True,
                timeout=TIMEOUT,
            )
            rendered = out.glob(f"{source.stem}-*.pgm")
            images += sorted(rendered, key=lambda p: int(p.stem.rpartition("-")[2]))
            continue
        with Image.open(source) as image:
            for index, frame in enumerate(ImageSequence.Iterator(image), start=1):
                page = frame if frame.mode in {"1", "L"} else frame.convert("L")
                images.append(out / f"{source.stem}-{index}.pnm")
                page.save(images[-1], "PPM")
    return images


def _tesseract_pages(images: Sequence[Path], jobs: int, out: Path) -> Measured:
    """The plain command per page, ``jobs`` at a time, one OpenMP thread each."""
    env = _env(1)

    def one(image: Path) -> Measured:
        # --dpi as the pipeline passes it: a PNM page carries no resolution.
        cmd = ["tesseract", str(image), str(out / image.stem), "-l", "swe", "--psm", "3"]
        return run_measured([*cmd, "--dpi", "300"], env=env)

    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        runs = list(pool.map(one, images))
    return Measured(time.perf_counter() - started, sum(r.cpu for r in runs))


def _cpu_now() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def recognise_page(image: str) -> float:
    """The pipeline's OCR of one page image; the CPU seconds it took (for a pool)."""
    from pipeline._exec.tesseract import recognise

    before = _cpu_now()
    recognise(Path(image))
    return _cpu_now() - before


def _started(_: int) -> int:
    return os.getpid()


def _pipeline_pages(images: Sequence[Path], jobs: int) -> Measured:
    """``pipeline._exec.tesseract.recognise`` per page: in this process, or a warm pool."""
    from pipeline._exec.tesseract import languages

    os.environ["OMP_THREAD_LIMIT"] = "1"  # what the pipeline's workers run with
    languages()  # cached per process; a pool forked from here inherits it
    paths = [str(image) for image in images]
    if jobs <= 1:
        started = time.perf_counter()
        cpu = [recognise_page(path) for path in paths]
        return Measured(time.perf_counter() - started, sum(cpu))
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(_started, range(jobs)))  # start the workers before the clock
        started = time.perf_counter()
        cpu = list(pool.map(recognise_page, paths))
        return Measured(time.perf_counter() - started, sum(cpu))


def minutes_command(raw: Path, out: Path, jobs: int) -> list[str]:
    """``minutes run`` on ``raw`` into a fresh ``out``, nothing skipped."""
    cmd = [sys.executable, "-m", "pipeline", "run", "--raw", str(raw), "--out", str(out)]
    cmd += ["--jobs", str(jobs), "--quiet"]
    return [*cmd, "--force"] if _minutes_has_force() else cmd


_HELP: dict[str, str] = {}


def _help(cmd: Sequence[str]) -> str:
    key = " ".join(cmd)
    if key not in _HELP:
        proc = subprocess.run(
            [*cmd, "--help"], capture_output=True, text=True, env=_python_env(), timeout=120
        )
        _HELP[key] = proc.stdout
    return _HELP[key]


def _minutes_has_force() -> bool:
    # Incremental runs may skip unchanged sources; --force (where it exists) redoes them.
    return "--force" in _help([sys.executable, "-m", "pipeline", "run"])


def _minutes_run(raw: Path, out: Path, jobs: int, *, sample: bool = False) -> Measured:
    if out.exists():
        shutil.rmtree(out)
    return run_measured(minutes_command(raw, out, jobs), env=_python_env(), sample=sample)


def _minutes_on_dask(raw: Path, out: Path, workers: int) -> Measured:
    """``minutes run --scheduler`` on a local Dask cluster of ``workers`` one-thread workers.

    The cluster starts before the clock does; the workers' CPU is not the run's
    children's, so only the wall time compares.
    """
    try:
        from distributed import LocalCluster
    except ImportError as error:
        raise BenchError(
            "dask.distributed is not installed (pip install 'minutes[cluster]')"
        ) from (error)
    if out.exists():
        shutil.rmtree(out)
    with LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        cmd = [*minutes_command(raw, out, workers), "--scheduler", cluster.scheduler_address]
        return run_measured(cmd, env=_python_env())


def find_ocrmypdf() -> str | None:
    """The ``ocrmypdf`` beside this Python (the venv's), else on ``PATH``."""
    beside = Path(sys.executable).parent / "ocrmypdf"
    return str(beside) if beside.exists() else shutil.which("ocrmypdf")


def ocrmypdf_version(exe: str) -> str:
    proc = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=120)
    return proc.stdout.strip()


def ocrmypdf_command(exe: str, source: Path, sidecar: Path, jobs: int) -> list[str]:
    """What a user would run for the text alone: sidecar text, no output PDF where possible."""
    cmd = [exe, "-q", "--sidecar", str(sidecar), "-l", "swe", "--jobs", str(jobs)]
    if "none" in _help([exe]).partition("--output-type")[2][:200]:
        return [*cmd, "--output-type", "none", str(source), "-"]
    return [*cmd, "--output-type", "pdf", str(source), str(sidecar.with_suffix(".pdf"))]


def _ocrmypdf_files(exe: str, sources: Sequence[Path], jobs: int, out: Path) -> Measured:
    """One ``ocrmypdf`` per file, one after the other, as over a folder of scans."""
    out.mkdir(parents=True, exist_ok=True)
    runs = []
    for source in sources:
        sidecar = out / f"{source.name}.txt"
        # OCRmyPDF picks Tesseract's thread count itself when OMP_THREAD_LIMIT is unset.
        runs.append(run_measured(ocrmypdf_command(exe, source, sidecar, jobs), env=_env(None)))
        if not sidecar.read_text("utf-8").strip():
            raise BenchError(f"ocrmypdf read no text from {source.name}")
    return Measured(sum(r.seconds for r in runs), sum(r.cpu for r in runs))


OCR_VARIANTS = ("tesseract", "pipeline", "minutes run", "minutes run on Dask", "ocrmypdf")
OCR_LABELS = {
    "tesseract": "`tesseract IMG OUT -l swe --psm 3 --dpi 300`, per page",
    "pipeline": "`pipeline._exec.tesseract.recognise`, per page",
    "minutes run": "`minutes run` on the scanned files (extract, OCR, normalise, tables)",
    "minutes run on Dask": "`minutes run --scheduler` with as many one-thread Dask workers as jobs",
    "ocrmypdf": "`ocrmypdf --sidecar … --output-type none`, per file",
}


def measure_ocr(settings: Settings, work: Path, log: Log) -> Report:
    """Seconds per page of each OCR route, 1 and 2 jobs, interleaved and repeated."""
    sources = [RAW / name for name in settings.scanned]
    raw = work / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for source in sources:
        shutil.copy2(source, raw / source.name)
    images = page_images(sources, work / "pages")
    log(f"ocr: {len(images)} page images from {', '.join(settings.scanned)}")
    skipped: dict[str, str] = {}
    exe = find_ocrmypdf()
    runners: dict[str, Callable[[int, int], Measured]] = {
        "tesseract": lambda jobs, r: _tesseract_pages(images, jobs, work / f"tess-{r}-{jobs}"),
        "pipeline": lambda jobs, r: _pipeline_pages(images, jobs),
        "minutes run": lambda jobs, r: _minutes_run(raw, work / "out", jobs),
        "minutes run on Dask": lambda jobs, r: _minutes_on_dask(raw, work / "dask-out", jobs),
    }
    if exe is None:
        skipped["ocrmypdf"] = "ocrmypdf is not installed (pip install ocrmypdf)"
    else:
        runners["ocrmypdf"] = lambda jobs, r: _ocrmypdf_files(
            exe, sources, jobs, work / f"ocrmypdf-{r}-{jobs}"
        )
    samples: dict[str, dict[int, list[Measured]]] = {
        v: {j: [] for j in settings.jobs} for v in runners
    }
    busy_before_round: list[float] = []
    deadline = time.monotonic() + settings.quiet_wait
    for r in range(settings.repeats):
        busy_before_round.append(round(wait_for_quiet(deadline, log), 2))
        log(f"ocr round {r + 1}: other processes were using {busy_before_round[-1]:.2f} cores")
        for jobs in settings.jobs:
            for variant, runner in runners.items():
                try:
                    measured = _with_others(partial(runner, jobs, r))
                except BenchError as error:
                    skipped[variant] = str(error)
                    continue
                samples[variant][jobs].append(measured)
                log(
                    f"ocr {variant}, jobs {jobs}, run {r + 1}: {measured.seconds:.2f} s "
                    f"(others used {measured.others_cpu / measured.seconds:.2f} cores)"
                )
    samples = {v: by_jobs for v, by_jobs in samples.items() if all(by_jobs.values())}
    report = summarise_ocr(samples, len(images))
    report["files"] = list(settings.scanned)
    report["images"] = "pdftoppm -r 300 -gray (PGM) for PDF pages, Pillow PNM for image frames"
    report["ocrmypdf"] = ocrmypdf_version(exe) if exe else None
    report["minutes_force"] = _minutes_has_force()
    report["others_cores_before_round"] = busy_before_round
    report["skipped"] = skipped
    return report


def summarise_ocr(samples: Mapping[str, Mapping[int, Sequence[Measured]]], pages: int) -> Report:
    """Fastest run of each variant and jobs, per page, and the ratios between them."""
    variants: dict[str, Any] = {}
    best = {v: {j: _best(runs) for j, runs in by_jobs.items()} for v, by_jobs in samples.items()}
    baseline = best.get("tesseract")
    for variant, by_jobs in best.items():
        entry: dict[str, Any] = {"command": OCR_LABELS.get(variant, variant), "jobs": {}}
        for jobs, measured in by_jobs.items():
            entry["jobs"][str(jobs)] = {
                "seconds": round(measured.seconds, 3),
                "seconds_per_page": round(measured.seconds / pages, 3),
                "cpu_seconds_per_page": round(measured.cpu / pages, 3),
                "others_cores": round(measured.others_cpu / measured.seconds, 2),
                "samples": [round(m.seconds, 3) for m in samples[variant][jobs]],
            }
            if baseline and jobs in baseline:
                entry["jobs"][str(jobs)]["vs_tesseract"] = round(
                    measured.seconds / baseline[jobs].seconds, 3
                )
                entry["jobs"][str(jobs)]["cpu_vs_tesseract"] = round(
                    measured.cpu / baseline[jobs].cpu, 3
                )
        if 1 in by_jobs and 2 in by_jobs:
            entry["speedup_2_jobs"] = round(by_jobs[1].seconds / by_jobs[2].seconds, 3)
        variants[variant] = entry
    report: Report = {"pages": pages, "variants": variants}
    run = variants.get("minutes run", {})
    if "speedup_2_jobs" in run:
        report["minutes_run_speedup"] = {
            "value": run["speedup_2_jobs"],
            "target": JOBS_SPEEDUP_TARGET,
            "met": run["speedup_2_jobs"] >= JOBS_SPEEDUP_TARGET,
        }
    return report


# --- memory --------------------------------------------------------------------------


def measure_memory(settings: Settings, work: Path, log: Log) -> Report:
    """Peak memory and wall time of ``minutes run`` on the sample corpus, and its startup."""
    if settings.memory_sources is None:
        raw = RAW
        files = sorted(p.name for p in RAW.iterdir() if not p.name.startswith("."))
    else:
        raw = work / "raw"
        raw.mkdir(parents=True, exist_ok=True)
        for name in settings.memory_sources:
            shutil.copy2(RAW / name, raw / name)
        files = list(settings.memory_sources)
    small = work / "small"
    small.mkdir(parents=True, exist_ok=True)
    shutil.copy2(RAW / "m07_minutes.md", small / "m07_minutes.md")
    runs: list[Report] = []
    deadline = time.monotonic() + settings.quiet_wait
    for label, folder, jobs in [
        ("startup: one Markdown file", small, 1),
        *((f"sample corpus ({len(files)} files)", raw, j) for j in settings.jobs),
    ]:
        wait_for_quiet(deadline, log)
        measured = _with_others(partial(_minutes_run, folder, work / "out", jobs, sample=True))
        log(
            f"memory {label}, jobs {jobs}: {measured.seconds:.1f} s, largest process "
            f"{measured.max_rss_kb / 1024:.0f} MB, tree PSS {measured.tree_pss_kb / 1024:.0f} MB"
        )
        runs.append(
            {
                "run": label,
                "jobs": jobs,
                "seconds": round(measured.seconds, 2),
                "cpu_seconds": round(measured.cpu, 2),
                "largest_process_mb": round(measured.max_rss_kb / 1024, 1),
                "tree_rss_mb": round(measured.tree_rss_kb / 1024, 1),
                "tree_pss_mb": round(measured.tree_pss_kb / 1024, 1),
                "others_cores": round(measured.others_cpu / measured.seconds, 2),
            }
        )
    return {
        "files": files,
        "runs": runs,
        "how": (
            "largest_process_mb: ru_maxrss from wait4, the peak of the largest single process "
            "(minutes, a worker or a tesseract); tree_rss_mb / tree_pss_mb: peak of the summed "
            f"RSS / PSS of minutes and all its descendants, read from /proc every "
            f"{SAMPLE_INTERVAL:g} s (RSS counts pages shared by forked workers once per worker, "
            "PSS splits them)"
        ),
    }


# --- the run -------------------------------------------------------------------------

MEASURES: dict[str, Callable[[Settings, Path, Log], Report]] = {
    "normalise": measure_normalise,
    "text_layer": measure_text_layer,
    "ocr": measure_ocr,
    "memory": measure_memory,
}


def machine() -> Report:
    """What the absolute figures depend on."""
    model = None
    try:
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        model = found.group(1).strip() if found else None
    except OSError:
        pass
    tesseract = None
    try:
        from pipeline._exec.tesseract import version

        tesseract = version()
    except Exception:  # information only
        pass
    return {
        "cpu": model or platform.processor() or None,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "tesseract": tesseract,
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }


def run(
    settings: Settings = FULL,
    *,
    quick: bool = False,
    parts: Sequence[str] = PARTS,
    out: Path | None = DEFAULT_OUT,
    log: Log = lambda _: None,
) -> Report:
    """Measure the requested parts and write the report; a part that cannot run is skipped."""
    started = time.perf_counter()
    report: Report = {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "settings": json.loads(json.dumps(asdict(settings))),  # tuples as the JSON has them
        "machine": machine(),
        "skipped": {},
    }
    with tempfile.TemporaryDirectory(prefix="minutes-bench-") as tmp:
        for part in parts:
            try:
                report[part] = MEASURES[part](settings, Path(tmp) / part, log)
            except (BenchError, OSError, ImportError, subprocess.SubprocessError) as error:
                report["skipped"][part] = f"{type(error).__name__}: {error}"
                log(f"skipped {part}: {error}")
    report["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    report["seconds"] = round(time.perf_counter() - started, 1)
    if out is not None:
        write_report(report, out)
    return report


# --- Markdown ------------------------------------------------------------------------


def markdown(report: Report) -> str:
    """The report's figures as Markdown tables."""
    out: list[str] = []
    for part, render in (
        ("normalise", _md_normalise),
        ("text_layer", _md_text_layer),
        ("ocr", _md_ocr),
        ("memory", _md_memory),
    ):
        if part in report:
            out += [*render(report[part]), ""]
    info = report["machine"]
    out.append(
        f"Machine: {info['cpu']}, {info['cores']} cores, Python {info['python']}, Tesseract "
        f"{info['tesseract']}; load average {info['load_average_before'][0]:.2f} before, "
        f"{info.get('load_average_after', [0.0])[0]:.2f} after. Absolute times are this machine's."
    )
    for part, reason in report["skipped"].items():
        out.append(f"\nSkipped {part}: {reason}")
    return "\n".join(out)


def _md_normalise(part: Report) -> Iterator[str]:
    load = part["load"]
    yield (
        f"**Normalisation**, one core, fresh processes (fastest of "
        f"{part['processes_per_size']} per size and way); loading, median of "
        f"{part['load_samples']} processes: lexicon {load['lexicon']:.2f} s, context model "
        f"{load['context']:.2f} s, then `Normalizer.load()` {load['normalizer']:.2f} s"
    )
    yield ""
    yield (
        "| corpus | documents | tokens | distinct | first pass s | tokens/s | cost/token vs 1× | "
        "as one document: tokens/s | cost/token vs 1× | second pass: tokens/s |"
    )
    yield "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for size in part["sizes"]:
        first, one, second = size["first_pass"], size["one_document"], size["second_pass"]
        yield (
            f"| {size['scale']}× | {size['documents']} | {size['tokens']:,} | "
            f"{size['distinct_tokens']:,} | {first['seconds']:.2f} | {first['tokens_per_s']:,} | "
            f"{first['cost_per_token_vs_smallest']:.2f} | {one['tokens_per_s']:,} | "
            f"{one['cost_per_token_vs_smallest']:.2f} | {second['tokens_per_s']:,} |"
        )
    yield ""
    yield (
        "First pass: texts this process has not normalised before (words that recur within a "
        "size are memoised as they do); as one document: the same texts as the pages of one "
        "document, in another fresh process; second pass: the first pass's texts again. "
        f"Other processes used {part['others_cores'][0]:.2f}–{part['others_cores'][1]:.2f} "
        "cores meanwhile."
    )


def _md_text_layer(part: Report) -> Iterator[str]:
    yield "**Text-layer PDF extraction** (fastest run)"
    yield ""
    yield "| PDF | pages | s | pages/s |"
    yield "|---|---:|---:|---:|"
    for entry in part["files"]:
        yield (
            f"| {entry['name']} | {entry['pages']} | {entry['seconds']:.2f} | "
            f"{entry['pages_per_s']:.1f} |"
        )


def _md_ocr(part: Report) -> Iterator[str]:
    yield (
        f"**OCR**, {part['pages']} scanned pages ({', '.join(part.get('files', []))}); fastest run"
        " of each; ratio = time ÷ plain tesseract's with the same jobs"
    )
    yield ""
    yield (
        "| route | s/page, 1 job | ratio | CPU s/page | s/page, 2 jobs | ratio | 2 jobs speed-up |"
    )
    yield "|---|---:|---:|---:|---:|---:|---:|"
    for variant, entry in part["variants"].items():
        one, two = entry["jobs"].get("1", {}), entry["jobs"].get("2", {})
        yield (
            f"| {variant} | {_num(one.get('seconds_per_page'))} | {_ratio(one.get('vs_tesseract'))}"
            f" | {_num(one.get('cpu_seconds_per_page'))} | {_num(two.get('seconds_per_page'))} | "
            f"{_ratio(two.get('vs_tesseract'))} | {_ratio(entry.get('speedup_2_jobs'))} |"
        )
    entries = [e for v in part["variants"].values() for e in v["jobs"].values()]
    if entries:
        others = [e["others_cores"] for e in entries]
        spread = max(max(e["samples"]) / min(e["samples"]) - 1 for e in entries)
        yield ""
        yield (
            f"Other processes used {min(others):.2f}–{max(others):.2f} cores on average during "
            f"the runs shown (0 on a quiet machine); runs of one command differed by up to "
            f"{spread:.0%}."
        )
    speedup = part.get("minutes_run_speedup")
    if speedup:
        verdict = "met" if speedup["met"] else "NOT met"
        yield ""
        yield (
            f"`minutes run --jobs 2` vs `--jobs 1` on the scanned files: {speedup['value']:.2f}× "
            f"(target ≥ {speedup['target']}×: {verdict})."
        )
    for variant, reason in part.get("skipped", {}).items():
        yield f"\nSkipped {variant}: {reason}"


def _md_memory(part: Report) -> Iterator[str]:
    yield "**`minutes run`: peak memory**"
    yield ""
    yield "| run | jobs | wall s | CPU s | largest process MB | tree RSS MB | tree PSS MB |"
    yield "|---|---:|---:|---:|---:|---:|---:|"
    for run_ in part["runs"]:
        yield (
            f"| {run_['run']} | {run_['jobs']} | {run_['seconds']:.1f} | "
            f"{run_['cpu_seconds']:.1f} | {run_['largest_process_mb']:.0f} | "
            f"{run_['tree_rss_mb']:.0f} | {run_['tree_pss_mb']:.0f} |"
        )
    yield ""
    yield part["how"] + "."


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


# --- child process entry point ---------------------------------------------------------


def _child(argv: Sequence[str]) -> int:
    """``python -m benchmarks.bench normalise CORPUS.json [--cpu N]``: print the figures."""
    if len(argv) < 2 or argv[0] != "normalise":
        print(_child.__doc__, file=sys.stderr)
        return 2
    cpu = int(argv[argv.index("--cpu") + 1]) if "--cpu" in argv else None
    print(json.dumps(normalise_child(Path(argv[1]), cpu)))
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
